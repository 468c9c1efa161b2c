package fedlake.jobs.actions;

import fedlake.core.InvalidInputException;
import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.round.AuditStatus;
import fedlake.core.round.UpdateValidator;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.core.synth.ClassEmbeddings;
import fedlake.core.synth.ClassGaussian;
import fedlake.core.synth.ClassMoments;
import fedlake.core.synth.ClassPool;
import fedlake.core.synth.GaussianSource;
import fedlake.core.synth.Seeds;
import fedlake.core.synth.StatisticsPool;
import fedlake.core.synth.SyntheticSource;
import fedlake.core.synth.SyntheticTable;
import fedlake.core.synth.TextEmbeddings;
import fedlake.core.synth.TextSource;
import fedlake.encoder.EncoderSettings;
import fedlake.encoder.ImageFolders;
import fedlake.jobs.cli.EmbedImages;
import fedlake.jobs.cli.JobOptions;
import fedlake.jobs.spark.Spark;
import fedlake.jobs.spark.SparkStatisticsPooler;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.SyntheticProvenance;
import fedlake.schema.SyntheticRow;
import fedlake.schema.UpdateAudit;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

/**
 * The {@code synthesize} Spark job: writes a class-balanced synthetic embedding table, exactly
 * {@code perClass} rows for every class, from one source:
 *
 * <ul>
 *   <li>{@code text}: samples around each class's text embedding ({@link TextSource});
 *   <li>{@code site-stats}: samples from each class's Gaussian, with the statistics pooled exactly
 *       across the accepted updates of a store round (read and pooled in Spark tasks, merged by
 *       class) or across the rows of a statistics file;
 *   <li>{@code images}: embeddings of class images (one sub-folder per class) by a frozen encoder,
 *       through DJL in Spark partitions ({@link ImageEmbeddings}); a class with fewer than M images
 *       cycles through them in a seeded order, so some rows repeat an image.
 * </ul>
 *
 * Tasks generate one class at a time from the class's own random stream, so the table depends on
 * the seed only, not on partitioning. The driver streams the classes in order into one Parquet file
 * with the provenance in its footer, written atomically; an existing table is never replaced.
 */
public final class Synthesize {
  public static final int PER_CLASS_DEFAULT = 100;
  public static final String IMAGES = "images";
  public static final CommandLine COMMAND =
      CommandLine.of(
              "synthesize",
              "usage: fedlake synthesize --source text|site-stats|images --per-class M --seed S [options]")
          .value(
              "source",
              "text|site-stats|images",
              "where the class distributions come from (their options below)")
          .with(
              StoreConfig.STORE.withHelp(
                  "federation store: the table goes to ROOT/synthetic/NAME.parquet, and classes and"
                      + " dimension are checked against its current model"))
          .value("name", "NAME", "table name in the store (default SOURCE-mM-seedS)")
          .value("out", "URI", "write the table to this Parquet file instead")
          .value("per-class", "M", "rows per class (default " + PER_CLASS_DEFAULT + ")")
          .value("seed", "S", "seed; class c always draws from the stream of (S, c) (default 0)")
          .flag(
              "skip-missing-classes",
              "write the classes the source covers when some have none (default: error)")
          .flag(
              "exists-ok",
              "a table of that name made with the same source, settings and seed is kept (exit 0;"
                  + " a retried task), not an error; one made otherwise still is")
          .text("  text:")
          .value("text", "FILE", ".npy classes x dim, or Parquet DatasetRow with label = class")
          .value(
              "noise",
              "SIGMA",
              "noise length against the unit text embedding (default "
                  + TextSource.NOISE_DEFAULT
                  + ")")
          .text("  site-stats: --round R or --stats FILE")
          .value("round", "R", "pool the accepted updates of store round R")
          .value("stats", "FILE", "Parquet of ClassStatistics rows, pooled per class")
          .value("classes", "C", "number of classes (checked against the source)")
          .value("shrinkage", "L", "covariance toward diagonal (default 0)")
          .text("  images:")
          .value(
              "images",
              "DIR",
              "one sub-folder of .png/.jpg images per class; class ids by sorted folder name, or line"
                  + " i of --classnames FILE names the folder of class i")
          .with(EmbedImages.CLASSNAMES)
          .with(EmbedImages.ENCODER)
          .with(JobOptions.MASTER, StoreConfig.CONF);

  public static final String USAGE = COMMAND.usage();

  private final SparkSession spark;
  private final Store store;
  private SyntheticSource source;
  private Integer statisticsRound;
  private ImageInput images;
  private double shrinkage;
  private int perClass = PER_CLASS_DEFAULT;
  private long seed;
  private String name;
  private Path out;
  private SyntheticTable.MissingClasses missingClasses = SyntheticTable.MissingClasses.FAIL;
  private boolean existsOk;

  /**
   * @param store where named tables go and statistics rounds are read from; may be null with {@link
   *     #out}
   */
  public Synthesize(SparkSession spark, Store store) {
    this.spark = spark;
    this.store = store;
  }

  /** Rows come from {@code value} (text, images, or statistics already pooled). */
  public Synthesize source(SyntheticSource value) {
    this.source = java.util.Objects.requireNonNull(value, "source");
    this.statisticsRound = null;
    this.images = null;
    return this;
  }

  /**
   * Rows are embeddings of the images under {@code folder} (one sub-folder per class) by {@code
   * encoder}; {@code classNames} (nullable) names the folder of every class in class order.
   */
  public Synthesize images(String folder, EncoderSettings encoder, List<String> classNames) {
    this.images =
        new ImageInput(folder, java.util.Objects.requireNonNull(encoder, "encoder"), classNames);
    this.source = null;
    this.statisticsRound = null;
    return this;
  }

  private record ImageInput(String folder, EncoderSettings encoder, List<String> classNames) {}

  /**
   * Rows come from the statistics of the accepted updates of store round {@code round}, pooled in
   * Spark.
   */
  public Synthesize statisticsOfRound(int round) {
    if (round < 0) {
      throw new IllegalArgumentException("synthesize: --round must be >= 0, got " + round);
    }
    this.statisticsRound = round;
    this.source = null;
    this.images = null;
    return this;
  }

  public Synthesize shrinkage(double value) {
    if (!(value >= 0 && value <= 1)) {
      throw new IllegalArgumentException("synthesize: --shrinkage must be in [0, 1], got " + value);
    }
    this.shrinkage = value;
    return this;
  }

  public Synthesize perClass(int value) {
    this.perClass = SyntheticTable.requirePerClass(value);
    return this;
  }

  public Synthesize seed(long value) {
    this.seed = value;
    return this;
  }

  public Synthesize name(String value) {
    this.name = value;
    return this;
  }

  public Synthesize out(Path value) {
    this.out = value;
    return this;
  }

  /**
   * When the table exists already and was made from the same source, per-class count and seed (and
   * source parameters, when known before generating), report it instead of refusing: a retried task
   * (Airflow) then succeeds without rewriting it. A different table of that name is still an error.
   */
  public Synthesize existsOk(boolean value) {
    this.existsOk = value;
    return this;
  }

  public Synthesize missingClasses(SyntheticTable.MissingClasses value) {
    this.missingClasses = value;
    return this;
  }

  /** What was written (or, with {@link #existsOk}, found: {@code existed}). */
  public record Result(
      Path file, SyntheticProvenance provenance, long rows, int classes, boolean existed) {}

  public Result execute() {
    if (source == null && statisticsRound == null && images == null) {
      throw new IllegalArgumentException("synthesize: no source given");
    }
    if (out == null && store == null) {
      throw new IllegalArgumentException(
          "synthesize: give --store (table under ROOT/synthetic/) or --out URI");
    }
    String sourceName =
        source != null ? source.name() : images != null ? IMAGES : GaussianSource.NAME;
    Path target =
        out != null
            ? out
            : SyntheticTable.inStore(
                store, name != null ? name : sourceName + "-m" + perClass + "-seed" + seed);
    Store writer = out != null ? Store.open(out.getParent().toString(), conf()) : store;
    try {
      if (writer.fileSystem().exists(target)) { // checked before any work; write() checks again
        if (existsOk) {
          SyntheticProvenance found = SyntheticTable.readProvenance(target, writer.conf());
          if (found.getSource().equals(sourceName)
              && found.getPerClass() == perClass
              && found.getSeed() == seed
              && (source == null
                  || found.getParameters().equals(new java.util.HashMap<>(source.parameters())))) {
            int classes = found.getClassCount() - found.getMissingClasses().size();
            return new Result(target, found, (long) classes * perClass, classes, true);
          }
          throw new IllegalArgumentException(
              "synthesize: "
                  + target
                  + " exists already with other settings (source "
                  + found.getSource()
                  + ", per-class "
                  + found.getPerClass()
                  + ", seed "
                  + found.getSeed()
                  + ", parameters "
                  + found.getParameters()
                  + "); choose another "
                  + (out != null ? "--out" : "--name"));
        }
        throw new IllegalArgumentException(
            "synthesize: "
                + target
                + " exists already (tables are never replaced; choose another "
                + (out != null ? "--out" : "--name")
                + ")");
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("synthesize: cannot check " + target, e);
    }
    JavaSparkContext context = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Generated generated =
        source != null ? fromSource(context) : images != null ? fromImages() : fromRound(context);
    SyntheticProvenance provenance =
        SyntheticTable.provenance(
            generated.source(), perClass, seed, generated.missing(), System.currentTimeMillis());
    Iterable<SyntheticRow> rows =
        () ->
            new Iterator<>() {
              private final Iterator<ClassEmbeddings> classes =
                  generated.classes().toLocalIterator();
              private Iterator<SyntheticRow> current = java.util.Collections.emptyIterator();

              @Override
              public boolean hasNext() {
                while (!current.hasNext() && classes.hasNext()) {
                  current = SyntheticTable.toRows(classes.next(), sourceName, seed).iterator();
                }
                return current.hasNext();
              }

              @Override
              public SyntheticRow next() {
                if (!hasNext()) {
                  throw new java.util.NoSuchElementException();
                }
                return current.next();
              }
            };
    try {
      SyntheticTable.write(writer, target, rows, provenance);
    } finally {
      generated.release().run();
    }
    return new Result(
        target,
        provenance,
        (long) generated.classCount() * perClass,
        generated.classCount(),
        false);
  }

  private Configuration conf() {
    return store != null ? store.conf() : spark.sparkContext().hadoopConfiguration();
  }

  /** Per-class embeddings in class order, the provenance's source and its missing classes. */
  private record Generated(
      JavaRDD<ClassEmbeddings> classes,
      SyntheticSource source,
      List<Integer> missing,
      int classCount,
      Runnable release) {}

  private Generated fromSource(JavaSparkContext context) {
    List<Integer> classes = SyntheticTable.classesToWrite(source, missingClasses);
    Broadcast<SyntheticSource> shipped = context.broadcast(source);
    int perClass = this.perClass;
    long seed = this.seed;
    int slices = Math.max(1, Math.min(classes.size(), context.defaultParallelism() * 2));
    JavaRDD<ClassEmbeddings> rdd =
        context
            .parallelize(classes, slices)
            .map(c -> SyntheticTable.embeddings(shipped.value(), c, perClass, seed));
    return new Generated(
        rdd, source, SyntheticTable.missing(source), classes.size(), () -> shipped.destroy());
  }

  private Generated fromRound(JavaSparkContext context) {
    int round = statisticsRound;
    Model model = store.readModel(round, 0);
    int classCount = model.getClassCount();
    int dimension = model.getDimension();
    Path audit = store.auditFile(round);
    List<UpdateAudit> rows;
    try {
      if (!store.fileSystem().exists(audit)) {
        throw new IllegalArgumentException(
            "synthesize: round "
                + round
                + " of "
                + store.root()
                + " has not been aggregated yet (no "
                + audit.getName()
                + "); run 'fedlake round' first");
      }
      rows = store.readAudit(round);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("synthesize: cannot read " + audit, e);
    }
    List<String> files =
        rows.stream()
            .filter(a -> AuditStatus.ACCEPTED.is(a.getStatus()))
            .map(UpdateAudit::getFile)
            .sorted()
            .toList();
    if (files.isEmpty()) {
      throw new IllegalArgumentException(
          "synthesize: round " + round + " accepted no update, so there are no statistics to pool");
    }
    LongAccumulator contributions = context.sc().longAccumulator("updates with statistics");
    JavaPairRDD<Integer, ClassPool> pools =
        new SparkStatisticsPooler(spark)
            .pools(files, classCount, dimension, contributions)
            .sortByKey()
            .cache();
    try {
      List<Integer> covered = pools.keys().collect();
      if (contributions.value() == 0) {
        throw new IllegalArgumentException(
            "synthesize: none of the "
                + files.size()
                + " accepted updates of round "
                + round
                + " carries class statistics (sites opt in with 'edge train --site-stats')");
      }
      Map<String, String> parameters = new LinkedHashMap<>();
      parameters.put("store", store.root().toString());
      parameters.put("round", Integer.toString(round));
      parameters.put("updates", Integer.toString(files.size()));
      parameters.put("updates-with-statistics", Long.toString(contributions.value()));
      parameters.put(
          "covariance",
          pools.values().map(ClassPool::hasCovariance).reduce(Boolean::logicalAnd)
              ? "full"
              : "diagonal");
      parameters.put(
          "sites-examples", Long.toString(pools.values().map(ClassPool::count).reduce(Long::sum)));
      parameters.put("shrinkage", String.format(Locale.ROOT, "%s", shrinkage));
      // the source only answers covers() and parameters() here; the tasks sample from the pools
      SyntheticSource described =
          new CoverageSource(
              GaussianSource.NAME, classCount, dimension, Set.copyOf(covered), parameters);
      List<Integer> classes = SyntheticTable.classesToWrite(described, missingClasses);
      int perClass = this.perClass;
      long seed = this.seed;
      double shrinkage = this.shrinkage;
      JavaRDD<ClassEmbeddings> rdd =
          pools.map(
              pair -> {
                ClassEmbeddings e =
                    new ClassEmbeddings(
                        pair._1(),
                        dimension,
                        new ClassGaussian(pair._2().result(), shrinkage)
                            .sample(perClass, Seeds.forClass(seed, pair._1())));
                return SyntheticTable.check(GaussianSource.NAME, e, pair._1(), perClass, dimension);
              });
      return new Generated(
          rdd,
          described,
          SyntheticTable.missing(described),
          classes.size(),
          () -> pools.unpersist());
    } catch (RuntimeException e) {
      pools.unpersist();
      throw e;
    }
  }

  private Generated fromImages() {
    Model model =
        store == null ? null : store.latest().map(l -> store.readModel(l.round(), 0)).orElse(null);
    ImageEmbeddings job =
        ImageEmbeddings.of(spark)
            .images(images.folder())
            .model(images.encoder())
            .perClass(perClass)
            .seed(seed);
    if (images.classNames() != null) {
      job.classNames(images.classNames());
    }
    ImageEmbeddings.Result result = job.execute();
    try {
      int classCount = result.classes().size();
      int dimension = result.dimension();
      if (model != null && model.getClassCount() != classCount) {
        throw new InvalidInputException(
            images.folder(),
            "holds "
                + classCount
                + " class folder(s), but the federation in "
                + store.root()
                + " has "
                + model.getClassCount()
                + " classes");
      }
      if (model != null && model.getDimension() != dimension) {
        throw new InvalidInputException(
            images.encoder().model(),
            "gives embeddings of "
                + dimension
                + " values, but the federation in "
                + store.root()
                + " has dimension "
                + model.getDimension());
      }
      Map<String, String> parameters = new LinkedHashMap<>();
      parameters.put("images", images.folder());
      parameters.put("model", images.encoder().model());
      parameters.put("engine", images.encoder().engine());
      parameters.put("image-size", Integer.toString(images.encoder().imageSize()));
      parameters.put("distinct-images", Integer.toString(result.images()));
      parameters.put(
          "classes", String.join(",", result.classes().stream().map(c -> c.name()).toList()));
      SyntheticSource described =
          new CoverageSource(
              IMAGES,
              classCount,
              dimension,
              java.util.stream.IntStream.range(0, classCount)
                  .boxed()
                  .collect(java.util.stream.Collectors.toSet()),
              parameters);
      int perClass = this.perClass;
      // one class per record, its rows in id order (the image path, '#n' for repeats)
      JavaRDD<ClassEmbeddings> rdd =
          result
              .rows()
              .javaRDD()
              .mapToPair(
                  row ->
                      new Tuple2<>(
                          row.getInt(1), new Tuple2<>(row.getString(0), floats(row.getList(2)))))
              .groupByKey()
              .sortByKey()
              .map(
                  pair -> {
                    List<Tuple2<String, float[]>> rows = new ArrayList<>();
                    pair._2().forEach(rows::add);
                    rows.sort(java.util.Comparator.comparing(Tuple2::_1));
                    float[] values = new float[rows.size() * dimension];
                    for (int i = 0; i < rows.size(); i++) {
                      System.arraycopy(rows.get(i)._2(), 0, values, i * dimension, dimension);
                    }
                    return SyntheticTable.check(
                        IMAGES,
                        new ClassEmbeddings(pair._1(), dimension, values),
                        pair._1(),
                        perClass,
                        dimension);
                  });
      return new Generated(rdd, described, List.of(), classCount, () -> result.rows().unpersist());
    } catch (RuntimeException e) {
      result.rows().unpersist();
      throw e;
    }
  }

  private static float[] floats(List<Float> values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  /**
   * Describes a source whose rows are made elsewhere (which classes, parameters) without holding
   * its data.
   */
  private static final class CoverageSource implements SyntheticSource {
    private static final long serialVersionUID = 1L;
    private final String name;
    private final int classCount;
    private final int dimension;
    private final Set<Integer> covered;
    private final Map<String, String> parameters;

    CoverageSource(
        String name,
        int classCount,
        int dimension,
        Set<Integer> covered,
        Map<String, String> parameters) {
      this.name = name;
      this.classCount = classCount;
      this.dimension = dimension;
      this.covered = covered;
      this.parameters = new LinkedHashMap<>(parameters);
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public int dimension() {
      return dimension;
    }

    @Override
    public int classCount() {
      return classCount;
    }

    @Override
    public boolean covers(int classId) {
      return covered.contains(classId);
    }

    @Override
    public ClassEmbeddings embeddings(int classId, int count, java.util.SplittableRandom random) {
      throw new UnsupportedOperationException("made in the Spark tasks");
    }

    @Override
    public Map<String, String> parameters() {
      return parameters;
    }
  }

  // ---- command line ---------------------------------------------------------------------------

  public static int run(String[] argv, PrintStream out) {
    Args args = COMMAND.parse(argv);
    String sourceName = args.required("source");
    StoreConfig storeConfig = StoreConfig.of(args);
    if (!args.has("store") && !args.has("out")) {
      throw new IllegalArgumentException(
          "synthesize: give --store URI (table under ROOT/synthetic/) or --out URI");
    }
    if (args.has("name") && args.has("out")) {
      throw new IllegalArgumentException("synthesize: give either --name or --out, not both");
    }
    SparkSession spark = Spark.session("fedlake-synthesize", args.string("master", null));
    try {
      Configuration conf = storeConfig.applyTo(spark.sparkContext().hadoopConfiguration());
      Store store = args.has("store") ? Store.open(args.required("store"), conf) : null;
      Model model =
          store == null
              ? null
              : store.latest().map(l -> store.readModel(l.round(), 0)).orElse(null);
      Synthesize job =
          new Synthesize(spark, store)
              .perClass(args.integer("per-class", PER_CLASS_DEFAULT))
              .seed(args.longValue("seed", 0))
              .shrinkage(args.number("shrinkage", 0))
              .missingClasses(
                  args.flag("skip-missing-classes")
                      ? SyntheticTable.MissingClasses.SKIP
                      : SyntheticTable.MissingClasses.FAIL)
              .existsOk(args.flag("exists-ok"));
      if (args.has("name")) {
        job.name(args.required("name"));
      }
      if (args.has("out")) {
        String uri = args.required("out");
        job.out(
            new Path(
                uri.contains("://")
                    ? uri
                    : new java.io.File(uri).getAbsoluteFile().toURI().toString()));
      }
      switch (sourceName) {
        case TextSource.NAME -> {
          TextEmbeddings text = TextEmbeddings.read(args.required("text"), conf);
          if (model != null) {
            text.requireShape(model.getClassCount(), model.getDimension());
          }
          if (args.has("classes")) {
            text.requireShape(args.integer("classes", 0), text.dimension());
          }
          job.source(new TextSource(text, args.number("noise", TextSource.NOISE_DEFAULT)));
        }
        case GaussianSource.NAME -> {
          if (args.has("round") == args.has("stats")) {
            throw new IllegalArgumentException(
                "synthesize: --source site-stats needs exactly one of --round R or --stats FILE");
          }
          if (args.has("round")) {
            if (store == null) {
              throw new IllegalArgumentException("synthesize: --round needs --store");
            }
            job.statisticsOfRound(args.integer("round", 0));
          } else {
            job.source(
                statisticsFile(
                    args.required("stats"),
                    conf,
                    model,
                    args.has("classes") ? args.integer("classes", 0) : null,
                    args.number("shrinkage", 0)));
          }
        }
        case IMAGES ->
            job.images(
                args.required("images"),
                EmbedImages.encoder(args),
                args.has("classnames")
                    ? ImageFolders.readClassNames(args.required("classnames"), conf)
                    : null);
        default ->
            throw new IllegalArgumentException(
                "synthesize: --source must be text, site-stats or images, got '"
                    + sourceName
                    + "'");
      }
      Result result = job.execute();
      out.printf(
          Locale.ROOT,
          (result.existed() ? "Kept the existing table " : "Wrote ")
              + "%s: %d rows, %d per class for %d of %d classes, source %s, seed %d%n",
          result.file(),
          result.rows(),
          result.provenance().getPerClass(),
          result.classes(),
          result.provenance().getClassCount(),
          result.provenance().getSource(),
          result.provenance().getSeed());
      out.println("provenance: " + SyntheticTable.toJson(result.provenance()));
      return 0;
    } finally {
      spark.stop();
    }
  }

  /**
   * Statistics from a Parquet file of {@code ClassStatistics} rows (one row per site and class):
   * each row is checked, rows of a class are pooled exactly.
   */
  static GaussianSource statisticsFile(
      String location, Configuration conf, Model model, Integer classes, double shrinkage) {
    Path path =
        new Path(
            location.contains("://")
                ? location
                : new java.io.File(location).getAbsoluteFile().toURI().toString());
    List<ClassStatistics> rows = ParquetFiles.read(path, conf, ClassStatistics.getClassSchema());
    if (rows.isEmpty()) {
      throw new InvalidInputException(location, "holds no class statistics");
    }
    int dimension = model != null ? model.getDimension() : rows.get(0).getMean().size();
    int classCount =
        model != null
            ? model.getClassCount()
            : classes != null
                ? classes
                : rows.stream().mapToInt(ClassStatistics::getClassId).max().getAsInt() + 1;
    if (model != null && classes != null && classes != classCount) {
      throw new IllegalArgumentException(
          "synthesize: --classes " + classes + " but the federation has " + classCount);
    }
    StatisticsPool pool = new StatisticsPool(dimension);
    for (int i = 0; i < rows.size(); i++) {
      String problem =
          UpdateValidator.statisticsProblem(List.of(rows.get(i)), classCount, dimension);
      if (problem != null) {
        throw new InvalidInputException(location, "row " + i + ": " + problem);
      }
      pool.add(List.of(ClassMoments.fromAvro(rows.get(i))));
    }
    Map<String, String> parameters = new LinkedHashMap<>();
    parameters.put("stats", location);
    parameters.put("rows", Integer.toString(rows.size()));
    return new GaussianSource(classCount, dimension, pool.result(), shrinkage, parameters);
  }
}
