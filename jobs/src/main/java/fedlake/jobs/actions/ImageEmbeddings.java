package fedlake.jobs.actions;

import fedlake.core.InvalidInputException;
import fedlake.core.store.Store;
import fedlake.encoder.BalancedSample;
import fedlake.encoder.ClassImages;
import fedlake.encoder.ClipPreprocessor;
import fedlake.encoder.EncoderSettings;
import fedlake.encoder.ImageEncoder;
import fedlake.encoder.ImageFolders;
import fedlake.encoder.ModelFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Embeds a folder of images per class ({@code DIR/<class>/*.png|jpg|jpeg}, class ids as {@link
 * ImageFolders} maps them) with a frozen encoder inside Spark partitions. Only {@link
 * EncoderSettings} and the Hadoop settings travel to the executors; each executor loads the model
 * once ({@link ImageEncoder#shared}) and reuses it for every task it runs.
 *
 * <p>With {@link #perClass} the rows are class-balanced: exactly M rows per class, a class with
 * fewer images cycling through them in a seeded order ({@link BalancedSample}); each distinct image
 * is still embedded once. Without it every image gives one row.
 *
 * <pre>{@code
 * ImageEmbeddings.Result result = ImageEmbeddings.of(spark)
 *     .images("s3a://bucket/generated").model(EncoderSettings.of("/models/clip-vitb32-visual.pt"))
 *     .perClass(200).seed(7).execute();
 * result.rows();   // id, classId, embedding, sourceFile; cached, counted
 * }</pre>
 */
public final class ImageEmbeddings {
  /** Columns of {@link Result#rows}. */
  public static final StructType SCHEMA =
      new StructType()
          .add("id", DataTypes.StringType, false)
          .add("classId", DataTypes.IntegerType, false)
          .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false)
          .add("sourceFile", DataTypes.StringType, false);

  private final SparkSession spark;
  private String images;
  private EncoderSettings encoder;
  private List<String> classNames;
  private Integer perClass;
  private long seed = 0;
  private Integer partitions;

  private ImageEmbeddings(SparkSession spark) {
    this.spark = spark;
  }

  public static ImageEmbeddings of(SparkSession spark) {
    return new ImageEmbeddings(spark);
  }

  /** Folder (path or Hadoop URI) holding one sub-folder of images per class. Required. */
  public ImageEmbeddings images(String root) {
    if (root == null || root.isBlank()) {
      throw new IllegalArgumentException("image folder must not be empty");
    }
    this.images = root;
    return this;
  }

  /** The encoder to run. Required. */
  public ImageEmbeddings model(EncoderSettings settings) {
    if (settings == null) {
      throw new IllegalArgumentException("encoder settings must not be null");
    }
    this.encoder = settings;
    return this;
  }

  /**
   * Class names, line i naming class i ({@link ImageFolders#readClassNames}); default: folder
   * names.
   */
  public ImageEmbeddings classNames(List<String> names) {
    this.classNames = names == null ? null : List.copyOf(names);
    return this;
  }

  /** Exactly {@code rows} rows per class; default: one row per image. */
  public ImageEmbeddings perClass(int rows) {
    if (rows < 1) {
      throw new IllegalArgumentException("rows per class must be at least 1, got " + rows);
    }
    this.perClass = rows;
    return this;
  }

  /** Seed of the per-class order when balancing (default 0). */
  public ImageEmbeddings seed(long value) {
    this.seed = value;
    return this;
  }

  /** Spread the images over this many tasks (default: twice the default parallelism). */
  public ImageEmbeddings partitions(int value) {
    if (value < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + value);
    }
    this.partitions = value;
    return this;
  }

  /**
   * @param rows the embeddings, persisted and counted, ordered by class then pick
   * @param classes the classes found, by class id
   * @param images distinct images embedded
   * @param rowCount rows in {@code rows}
   * @param dimension length of each embedding
   * @param seconds wall time of listing and embedding
   */
  public record Result(
      Dataset<Row> rows,
      List<ClassImages> classes,
      int images,
      long rowCount,
      int dimension,
      double seconds) {
    /** Distinct images embedded per second. */
    public double imagesPerSecond() {
      return seconds > 0 ? images / seconds : 0;
    }
  }

  /**
   * Lists the classes, embeds their images and returns the rows. Bad input (no such folder, a class
   * folder without images, an image that does not decode, a model that does not load) raises {@link
   * InvalidInputException} naming the file, whichever executor met it.
   */
  public Result execute() {
    if (images == null) {
      throw new IllegalArgumentException("embed images: the image folder is required");
    }
    if (encoder == null) {
      throw new IllegalArgumentException("embed images: the encoder model is required");
    }
    if (!ModelFiles.isUrl(encoder.model()) && !Files.exists(Path.of(encoder.model()))) {
      throw new InvalidInputException(
          encoder.model(), "cannot load encoder model: no such file or directory");
    }
    long start = System.nanoTime();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<ClassImages> classes = ImageFolders.list(images, classNames, conf);
    List<BalancedSample.Pick> picks =
        perClass != null
            ? BalancedSample.perClass(classes, perClass, seed)
            : BalancedSample.all(classes);
    List<ImageTask> tasks = tasks(picks);

    JavaSparkContext context = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int slices =
        Math.max(
            1,
            Math.min(
                tasks.size(), partitions != null ? partitions : context.defaultParallelism() * 2));
    Embedder embedder = new Embedder(encoder, new HashMap<>(Store.settings(conf)));
    JavaRDD<Row> rows = context.parallelize(tasks, slices).mapPartitions(embedder::embed);
    Dataset<Row> frame = spark.createDataFrame(rows, SCHEMA).persist();
    long count;
    int dimension;
    try {
      count = frame.count();
      dimension = count == 0 ? 0 : frame.select("embedding").first().getList(0).size();
    } catch (Exception e) {
      // Spark 4's SparkException is checked, but Scala code throws it undeclared
      frame.unpersist();
      throw unwrap(e);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Result(frame, classes, tasks.size(), count, dimension, seconds);
  }

  /** One task per distinct image, with the number of rows it gives; in class then pick order. */
  private static List<ImageTask> tasks(List<BalancedSample.Pick> picks) {
    Map<String, ImageTask> byFile = new LinkedHashMap<>();
    for (BalancedSample.Pick pick : picks) {
      byFile.merge(
          pick.file(),
          new ImageTask(pick.file(), pick.classId(), pick.id(), 1),
          (old, added) -> new ImageTask(old.file(), old.classId(), old.id(), old.copies() + 1));
    }
    return new ArrayList<>(byFile.values());
  }

  /**
   * Spark wraps a task's exception in a SparkException ("Job aborted due to stage failure ...");
   * hand the user the fedlake error inside it instead.
   */
  static RuntimeException unwrap(Exception failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof InvalidInputException bad) {
        return new InvalidInputException(bad.file(), bad.reason(), failure);
      }
      if (t instanceof IllegalStateException state) {
        return new IllegalStateException(state.getMessage(), failure);
      }
    }
    return failure instanceof RuntimeException runtime
        ? runtime
        : new RuntimeException(failure.getMessage(), failure);
  }

  /** A distinct image: its first row's id and how many rows it gives. */
  record ImageTask(String file, int classId, String id, int copies) implements Serializable {}

  /** What each task holds: the encoder settings and Hadoop settings, never the model itself. */
  static final class Embedder implements Serializable {
    private final EncoderSettings settings;
    private final Map<String, String> hadoop;
    private transient ImageEncoder encoder;
    private transient Configuration conf;

    Embedder(EncoderSettings settings, Map<String, String> hadoop) {
      this.settings = settings;
      this.hadoop = hadoop;
    }

    private ImageEncoder encoder() {
      if (encoder == null) {
        encoder = ImageEncoder.shared(settings, configuration());
      }
      return encoder;
    }

    private Configuration configuration() {
      if (conf == null) {
        conf = Store.configuration(hadoop);
      }
      return conf;
    }

    /** Embeds a partition batch by batch, so only one batch of pixels is in memory at a time. */
    Iterator<Row> embed(Iterator<ImageTask> tasks) {
      return new Iterator<>() {
        private final List<Row> pending = new ArrayList<>();
        private int next = 0;

        @Override
        public boolean hasNext() {
          if (next < pending.size()) {
            return true;
          }
          pending.clear();
          next = 0;
          if (tasks.hasNext()) {
            fill();
          }
          return next < pending.size();
        }

        @Override
        public Row next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          return pending.get(next++);
        }

        private void fill() {
          ImageEncoder model = encoder();
          ClipPreprocessor preprocessor = model.preprocessor();
          List<ImageTask> batch = new ArrayList<>();
          List<float[]> pixels = new ArrayList<>();
          while (tasks.hasNext() && batch.size() < settings.batchSize()) {
            ImageTask task = tasks.next();
            batch.add(task);
            pixels.add(preprocessor.preprocess(read(task.file())));
          }
          List<float[]> embeddings = model.embedPreprocessed(pixels);
          for (int i = 0; i < batch.size(); i++) {
            ImageTask task = batch.get(i);
            for (int copy = 0; copy < task.copies(); copy++) {
              String id = copy == 0 ? task.id() : task.id() + "#" + copy;
              pending.add(RowFactory.create(id, task.classId(), embeddings.get(i), task.file()));
            }
          }
        }
      };
    }

    private java.awt.image.BufferedImage read(String file) {
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(file);
      try {
        FileSystem fs = path.getFileSystem(configuration());
        try (InputStream in = fs.open(path)) {
          return ClipPreprocessor.decode(in, file);
        }
      } catch (IOException e) {
        throw new InvalidInputException(file, "cannot read image: " + e.getMessage(), e);
      }
    }
  }
}
