package fedlake.jobs.cli;

import fedlake.core.InvalidInputException;
import fedlake.core.cli.Args;
import fedlake.core.cli.Option;
import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.init.Federation;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.store.ParquetFiles;
import fedlake.core.synth.Bootstraps;
import fedlake.core.synth.SyntheticTable;
import fedlake.core.synth.TextEmbeddings;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * The cache-model options of {@code fedlake init}: {@code --model cache --keys PATH [--text FILE]
 * [--cache-alpha A] [--cache-beta B]}.
 */
public final class CacheInit {
  /** The cache-model options of init ({@code --text}, shared with the bootstrap, is init's). */
  static final List<Option> OPTIONS =
      List.of(
          Option.value(
              "model", "head|cache", "model kind (default head); cache: a Tip-Adapter cache model"),
          Option.value(
              "keys",
              "PATH",
              "cache keys with their labels: .parquet (DatasetRow), a folder with X.npy + y.npy, or NAME_X.npy"),
          Option.value(
              "cache-alpha",
              "A",
              "weight of the cache logits (default 16 / keys per class, times logit-scale / 100 with --text)"),
          Option.value(
              "cache-beta",
              "B",
              "sharpness of the key affinities (default " + CacheModel.BETA_DEFAULT + ")"));

  private CacheInit() {}

  /**
   * For {@code --model cache}: reads the keys and makes the cache the federation's round-0 model;
   * call after {@code --dim}, {@code --classes} and {@code --logit-scale} are set. Returns the
   * model kind.
   */
  static String configure(
      Args args,
      Federation federation,
      int dimension,
      int classes,
      float logitScale,
      Configuration conf) {
    String kind = args.string("model", Models.HEAD);
    if (Models.HEAD.equals(kind)) {
      for (String option : new String[] {"keys", "cache-alpha", "cache-beta"}) {
        if (args.has(option)) {
          throw new IllegalArgumentException("init: --" + option + " needs --model cache");
        }
      }
      return kind;
    }
    if (!Models.CACHE.equals(kind)) {
      throw new IllegalArgumentException(
          "init: --model must be 'head' or 'cache', got '" + kind + "'");
    }
    if (!args.has("keys")) {
      throw new IllegalArgumentException(
          "init: --model cache needs --keys PATH (labelled embeddings to use as cache keys)");
    }
    Dataset keys = keys(args.required("keys"), conf);
    Head head =
        args.has("text")
            ? textHead(args.required("text"), classes, dimension, logitScale, conf)
            : Head.zeros(dimension, classes, logitScale);
    float alpha =
        (float)
            args.number(
                "cache-alpha",
                CacheModel.defaultAlpha(
                    args.has("text"), logitScale, CacheModel.keysPerClass(keys.labels())));
    CacheModel cache =
        Models.cacheOf(
            keys, head, alpha, (float) args.number("cache-beta", CacheModel.BETA_DEFAULT));
    federation.initialCache(cache, args.has("text") ? "zero-shot" : "init");
    return kind;
  }

  /**
   * Keys from a synthetic table ({@code fedlake synthesize}, recognised by the provenance in its
   * footer) or any labelled data set {@link DatasetFiles} reads.
   */
  static Dataset keys(String location, Configuration conf) {
    org.apache.hadoop.fs.Path path =
        new org.apache.hadoop.fs.Path(
            location.contains("://")
                ? location
                : new java.io.File(location).getAbsoluteFile().toURI().toString());
    try {
      var fs = path.getFileSystem(conf);
      if (location.endsWith(".parquet")
          && fs.isFile(path)
          && ParquetFiles.footer(path, conf).containsKey(SyntheticTable.PROVENANCE_KEY)) {
        return SyntheticTable.read(path, conf).data();
      }
    } catch (java.io.IOException e) {
      throw new InvalidInputException(location, "cannot read keys: " + e.getMessage(), e);
    }
    return DatasetFiles.read(location, conf);
  }

  /**
   * The head part of a cache model from class text embeddings ({@link TextEmbeddings}): W = the
   * unit text rows, b = 0, so its logits are {@code logitScale * cos(x, text_c)}.
   */
  public static Head textHead(
      String location, int classes, int dimension, float logitScale, Configuration conf) {
    TextEmbeddings text = TextEmbeddings.read(location, conf).requireShape(classes, dimension);
    return Bootstraps.zeroShot(text, logitScale, logitScale);
  }
}
