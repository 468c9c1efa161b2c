package fedlake.jobs.simulation;

import fedlake.core.cli.Args;
import fedlake.core.data.Dataset;
import fedlake.core.init.Federation;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.synth.Bootstraps;
import fedlake.jobs.cli.CacheInit;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The model kind a simulation runs and, for {@code --model cache}, how its round-0 cache is made:
 * class-balanced synthetic keys drawn from per-class statistics pooled over the sites (never the
 * sites' raw rows), the head part from {@code --text} class embeddings or zeros.
 */
public record SimulateCache(String kind, int perClass, Path text, Float alpha, float beta) {
  public SimulateCache {
    if (!Models.HEAD.equals(kind) && !Models.CACHE.equals(kind)) {
      throw new IllegalArgumentException(
          "simulate: --model must be 'head' or 'cache', got '" + kind + "'");
    }
    if (perClass < 1) {
      throw new IllegalArgumentException(
          "simulate: --synthetic-per-class must be at least 1, got " + perClass);
    }
    if (alpha != null && (!(alpha >= 0) || !Float.isFinite(alpha))) {
      throw new IllegalArgumentException(
          "simulate: --cache-alpha must be finite and >= 0, got " + alpha);
    }
    if (!(beta >= 0) || !Float.isFinite(beta)) {
      throw new IllegalArgumentException(
          "simulate: --cache-beta must be finite and >= 0, got " + beta);
    }
  }

  /** The default: a head model. */
  public static SimulateCache head() {
    return new SimulateCache(
        Models.HEAD, Bootstraps.CACHE_KEYS_PER_CLASS_DEFAULT, null, null, CacheModel.BETA_DEFAULT);
  }

  /** A cache model with the default settings (alpha null: {@link CacheModel#defaultAlpha}). */
  public static SimulateCache cache() {
    return new SimulateCache(
        Models.CACHE, Bootstraps.CACHE_KEYS_PER_CLASS_DEFAULT, null, null, CacheModel.BETA_DEFAULT);
  }

  static SimulateCache fromArgs(Args args) {
    return new SimulateCache(
        args.string("model", Models.HEAD),
        args.integer("synthetic-per-class", Bootstraps.CACHE_KEYS_PER_CLASS_DEFAULT),
        args.has("text") && Models.CACHE.equals(args.string("model", Models.HEAD))
            ? Path.of(args.required("text"))
            : null,
        args.has("cache-alpha")
            ? (float) args.number("cache-alpha", CacheModel.ALPHA_DEFAULT)
            : null,
        (float) args.number("cache-beta", CacheModel.BETA_DEFAULT));
  }

  /**
   * For a cache: draws the keys from the sites' pooled statistics and makes it the federation's
   * round-0 model.
   */
  void bootstrap(
      Federation federation,
      List<Dataset> sites,
      int classes,
      int dimension,
      long seed,
      PrintStream out) {
    if (!Models.CACHE.equals(kind)) {
      return;
    }
    Dataset keys = Bootstraps.cacheKeys(sites, classes, perClass, seed);
    Head head =
        text == null
            ? Head.zeros(dimension, classes, Models.DEFAULT_LOGIT_SCALE)
            : CacheInit.textHead(
                text.toString(),
                classes,
                dimension,
                Models.DEFAULT_LOGIT_SCALE,
                new org.apache.hadoop.conf.Configuration());
    float a =
        alpha != null ? alpha : CacheModel.defaultAlpha(text != null, head.logitScale(), perClass);
    federation.initialCache(Models.cacheOf(keys, head, a, beta), "synthetic");
    if (out != null) {
      out.println(
          String.format(
              Locale.ROOT,
              "cache model: %d synthetic keys (%d per class, from per-class statistics pooled over %d sites),"
                  + " alpha %s, beta %s, head part %s",
              keys.size(),
              perClass,
              sites.size(),
              a,
              beta,
              text == null ? "zeros" : "zero-shot from " + text));
    }
  }
}
