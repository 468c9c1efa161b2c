package fedlake.jobs.cli;

import fedlake.core.InvalidInputException;
import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.cli.Option;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.StoreConfig;
import fedlake.encoder.ClipPreprocessor;
import fedlake.encoder.EncoderSettings;
import fedlake.encoder.ImageFolders;
import fedlake.jobs.actions.ImageEmbeddings;
import fedlake.jobs.spark.Spark;
import fedlake.schema.DatasetRow;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code fedlake embed-images}: embeds a folder of images per class with a frozen encoder in Spark
 * and writes one Parquet file in the DatasetRow schema (id, embedding, label = class id), which the
 * edge runner and {@code simulate} read. The file appears whole or not at all: rows go to a hidden
 * temporary file beside it that is renamed at the end; an existing file is left alone unless {@code
 * --overwrite} is given.
 */
public final class EmbedImages {
  /**
   * The image encoder's options ({@link #encoder}), shared with {@code synthesize --source images}.
   */
  public static final List<Option> ENCODER =
      List.of(
          Option.value(
              "model",
              "PATH_OR_URL",
              "image encoder: TorchScript .pt (PyTorch engine) or .onnx; local path, file:, http(s):,"
                  + " or a Hadoop URI (s3a://, hdfs://), downloaded once per host (see docs/images.md)"),
          Option.value(
              "batch-size",
              "B",
              "images per forward pass (default " + EncoderSettings.BATCH_SIZE_DEFAULT + ")"),
          Option.value(
              "image-size",
              "S",
              "side of the square model input (default " + ClipPreprocessor.DEFAULT_SIZE + ")"),
          Option.value(
              "engine", "E", "PyTorch or OnnxRuntime (default: from the model file's extension)"));

  /** {@code --classnames FILE}, shared with {@code synthesize --source images}. */
  public static final Option CLASSNAMES =
      Option.value(
          "classnames",
          "FILE",
          "class names, line i naming class i; folders match a name or a class id (default:"
              + " numbered folders keep their number, otherwise sorted folder names get 0, 1, ...)");

  public static final CommandLine COMMAND =
      CommandLine.of(
              "embed-images",
              "usage: fedlake embed-images --images DIR --model PATH_OR_URL --out FILE.parquet [options]")
          .value(
              "images",
              "DIR",
              "one sub-folder of .png/.jpg/.jpeg images per class (path or URI, e.g. s3a://...)")
          .with(ENCODER.get(0))
          .value(
              "out",
              "FILE.parquet",
              "output file (path or URI); refused if it exists, unless --overwrite")
          .value(
              "per-class",
              "M",
              "exactly M rows per class, small classes cycling through their images (default: one row per image)")
          .value("seed", "S", "seed of the per-class order (default 0)")
          .with(CLASSNAMES)
          .with(ENCODER.subList(1, ENCODER.size()))
          .value("partitions", "P", "Spark tasks (default: twice the default parallelism)")
          .flag("overwrite", "replace an existing output file")
          .with(JobOptions.MASTER, StoreConfig.CONF);

  public static final String USAGE = COMMAND.usage();

  private EmbedImages() {}

  public static int run(String[] argv, PrintStream out) {
    Args args = COMMAND.parse(argv);
    String images = args.required("images");
    String model = args.required("model");
    String output = args.required("out");
    EncoderSettings encoder = encoder(args);
    StoreConfig storeConfig = StoreConfig.of(args);
    SparkSession spark = Spark.session("fedlake-embed-images", args.string("master", null));
    try {
      Configuration conf = storeConfig.applyTo(spark.sparkContext().hadoopConfiguration());
      Path target = ImageFolders.path(output);
      boolean overwrite = args.flag("overwrite");
      refuseExisting(target, conf, overwrite, output);
      ImageEmbeddings job =
          ImageEmbeddings.of(spark).images(images).model(encoder).seed(args.longValue("seed", 0));
      if (args.has("per-class")) {
        job.perClass(args.integer("per-class", 0));
      }
      if (args.has("partitions")) {
        job.partitions(args.integer("partitions", 0));
      }
      if (args.has("classnames")) {
        job.classNames(ImageFolders.readClassNames(args.required("classnames"), conf));
      }
      ImageEmbeddings.Result result = job.execute();
      write(result, target, conf, overwrite);
      result.rows().unpersist();
      out.printf(
          Locale.ROOT,
          "Embedded %d images of %d classes with %s (%d values each) in %.1f s (%.1f images/s)%n",
          result.images(),
          result.classes().size(),
          model,
          result.dimension(),
          result.seconds(),
          result.imagesPerSecond());
      out.printf(Locale.ROOT, "Wrote %d rows to %s%n", result.rowCount(), target);
      return 0;
    } finally {
      spark.stop();
    }
  }

  /**
   * The encoder of {@code --model}, {@code --batch-size}, {@code --image-size} and {@code
   * --engine}.
   */
  public static EncoderSettings encoder(Args args) {
    String model = args.required("model");
    return EncoderSettings.of(model)
        .withBatchSize(args.integer("batch-size", EncoderSettings.BATCH_SIZE_DEFAULT))
        .withImageSize(args.integer("image-size", ClipPreprocessor.DEFAULT_SIZE))
        .withEngine(args.string("engine", EncoderSettings.engineFor(model)));
  }

  private static void refuseExisting(
      Path target, Configuration conf, boolean overwrite, String output) {
    try {
      FileSystem fs = target.getFileSystem(conf);
      if (!overwrite && fs.exists(target)) {
        throw new InvalidInputException(
            output, "output already exists; choose another --out or pass --overwrite");
      }
      if (fs.exists(target) && fs.getFileStatus(target).isDirectory()) {
        throw new InvalidInputException(
            output, "output is a folder; --out names the Parquet file to write");
      }
    } catch (IOException e) {
      throw new InvalidInputException(output, "cannot check output: " + e.getMessage(), e);
    }
  }

  /** Streams the rows to a hidden file beside {@code target}, then renames it into place. */
  static void write(
      ImageEmbeddings.Result result, Path target, Configuration conf, boolean overwrite) {
    Path partial =
        new Path(target.getParent(), "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
    try {
      FileSystem fs = target.getFileSystem(conf);
      try {
        Iterator<Row> rows = result.rows().orderBy("classId", "id").toLocalIterator();
        ParquetFiles.write(
            partial,
            conf,
            DatasetRow.getClassSchema(),
            () ->
                new Iterator<DatasetRow>() {
                  @Override
                  public boolean hasNext() {
                    return rows.hasNext();
                  }

                  @Override
                  public DatasetRow next() {
                    Row row = rows.next();
                    List<Float> embedding = new ArrayList<>(row.getList(2));
                    return new DatasetRow(row.getString(0), embedding, row.getInt(1));
                  }
                });
        if (overwrite && fs.exists(target)) {
          fs.delete(target, false);
        }
        if (!fs.rename(partial, target)) {
          throw new IOException("rename of " + partial + " to " + target + " failed");
        }
      } finally {
        if (fs.exists(partial)) {
          fs.delete(partial, false);
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
    }
  }
}
