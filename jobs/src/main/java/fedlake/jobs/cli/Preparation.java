package fedlake.jobs.cli;

import fedlake.core.InvalidInputException;
import fedlake.core.cli.Args;
import fedlake.core.cli.Option;
import fedlake.core.data.Dataset;
import fedlake.core.init.Federation;
import fedlake.core.model.Head;
import fedlake.core.round.Calibrator;
import fedlake.core.store.Store;
import fedlake.core.synth.Bootstraps;
import fedlake.core.synth.Ccvr;
import fedlake.core.synth.SyntheticTable;
import fedlake.core.synth.TextEmbeddings;
import fedlake.core.synth.TextSource;
import fedlake.jobs.actions.Synthesize;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/**
 * The server-side preparation options of {@code simulate} (and the demo): how the round-0 model is
 * bootstrapped, whether sites report class statistics, and whether the round job calibrates.
 */
public final class Preparation {
  public static final String NONE = "none";
  public static final String CACHE = "cache";

  /** {@code --text FILE}; init and simulate give it their own help (it also feeds a cache). */
  public static final Option TEXT =
      Option.value(
          "text",
          "FILE",
          "class text embeddings (.npy classes x dim, or Parquet DatasetRow with label = class)");

  /** {@code --zero-shot-scale S}: the logit scale of the zero-shot head. */
  static final Option ZERO_SHOT_SCALE =
      Option.value(
          "zero-shot-scale",
          "S",
          "logit scale of the zero-shot head (default " + Bootstraps.ZERO_SHOT_SCALE_DEFAULT + ")");

  /** {@code --calibrate}; the round command gives it its own help. */
  static final Option CALIBRATE =
      Option.flag(
          "calibrate",
          "CCVR: after aggregation re-fit the head on virtual features from the pooled statistics"
              + " (needs --site-stats)");

  /** The settings of {@code --calibrate}, shared by simulate and round. */
  static final List<Option> CALIBRATION =
      List.of(
          Option.value(
              "calibration-per-class",
              "M",
              "virtual features per class (default " + Ccvr.PER_CLASS_DEFAULT + ")"),
          Option.value(
              "calibration-epochs",
              "E",
              "epochs of the re-fit (default " + Ccvr.EPOCHS_DEFAULT + ")"),
          Option.value(
              "calibration-learning-rate",
              "LR",
              "step size of the re-fit (default " + Ccvr.LEARNING_RATE_DEFAULT + ")"),
          Option.value(
              "calibration-batch-size",
              "B",
              "rows a step of the re-fit (default " + Ccvr.BATCH_SIZE_DEFAULT + ")"),
          Option.value(
              "calibration-shrinkage",
              "S",
              "shrinkage of the pooled covariances toward their diagonal (default "
                  + Ccvr.SHRINKAGE_DEFAULT
                  + ")"),
          Option.flag("calibrate-from-scratch", "re-fit from zeros, not from the aggregated head"));

  /** simulate's preparation options: the round-0 bootstrap, site statistics, calibration. */
  public static final List<Option> OPTIONS = options();

  private static List<Option> options() {
    List<Option> options = new ArrayList<>();
    options.add(
        Option.value(
            "bootstrap",
            "B",
            "round-0 model: none (zeros, default), zero-shot (from --text), synthetic (trained on a"
                + " synthetic table sampled around --text); a cache model: --model cache"));
    options.add(
        Option.value(
            "synthetic-per-class",
            "M",
            "rows per class of the synthetic bootstrap table (default "
                + Synthesize.PER_CLASS_DEFAULT
                + "); with --model cache: keys per class (default "
                + Bootstraps.CACHE_KEYS_PER_CLASS_DEFAULT
                + "), from the sites' pooled class statistics"));
    options.add(
        Option.value(
            "text-noise",
            "SIGMA",
            "noise of the synthetic bootstrap table around --text (default "
                + TextSource.NOISE_DEFAULT
                + ")"));
    options.add(ZERO_SHOT_SCALE);
    options.addAll(fedlake.edge.EdgeMain.SITE_STATS);
    options.add(CALIBRATE);
    options.addAll(CALIBRATION);
    return List.copyOf(options);
  }

  private String bootstrap = NONE;
  private String text;
  private int syntheticPerClass = Synthesize.PER_CLASS_DEFAULT;
  private double textNoise = TextSource.NOISE_DEFAULT;
  private double zeroShotScale = Bootstraps.ZERO_SHOT_SCALE_DEFAULT;
  private fedlake.core.synth.SiteStatistics siteStatistics;
  private boolean calibrate;
  private int calibrationPerClass = Ccvr.PER_CLASS_DEFAULT;
  private int calibrationEpochs = Ccvr.EPOCHS_DEFAULT;
  private double calibrationLearningRate = Ccvr.LEARNING_RATE_DEFAULT;
  private int calibrationBatchSize = Ccvr.BATCH_SIZE_DEFAULT;
  private double calibrationShrinkage = Ccvr.SHRINKAGE_DEFAULT;
  private boolean calibrateFromScratch;

  public static Preparation none() {
    return new Preparation();
  }

  /** Parses and cross-checks the options; {@code command} prefixes the errors. */
  public static Preparation fromArgs(String command, Args args) {
    Preparation p = new Preparation();
    p.bootstrap = args.string("bootstrap", NONE);
    if (CACHE.equals(p.bootstrap)) {
      throw new IllegalArgumentException(
          command + ": a cache model is bootstrapped with --model cache (its keys are synthetic)");
    }
    if (!Set.of(NONE, Bootstraps.ZERO_SHOT, Bootstraps.SYNTHETIC).contains(p.bootstrap)) {
      throw new IllegalArgumentException(
          command
              + ": --bootstrap must be none, zero-shot, synthetic or cache, got '"
              + p.bootstrap
              + "'");
    }
    p.text = args.string("text", null);
    if ((Bootstraps.ZERO_SHOT.equals(p.bootstrap) || Bootstraps.SYNTHETIC.equals(p.bootstrap))
        && p.text == null) {
      throw new IllegalArgumentException(
          command + ": --bootstrap " + p.bootstrap + " needs --text FILE (class text embeddings)");
    }
    p.syntheticPerClass =
        SyntheticTable.requirePerClass(
            args.integer("synthetic-per-class", Synthesize.PER_CLASS_DEFAULT));
    p.textNoise = args.number("text-noise", TextSource.NOISE_DEFAULT);
    p.zeroShotScale = args.number("zero-shot-scale", Bootstraps.ZERO_SHOT_SCALE_DEFAULT);
    p.siteStatistics = fedlake.edge.EdgeMain.siteStatistics(args);
    p.calibrate = args.flag("calibrate");
    if (p.calibrate && p.siteStatistics == null) {
      throw new IllegalArgumentException(
          command
              + ": --calibrate needs --site-stats (calibration samples from the statistics sites report)");
    }
    p.calibrationOptions(command, args);
    return p;
  }

  static Preparation calibrationFromArgs(String command, Args args) {
    Preparation p = new Preparation();
    p.calibrate = args.flag("calibrate");
    if (!p.calibrate && args.has("probe")) {
      throw new IllegalArgumentException(command + ": --probe needs --calibrate");
    }
    p.calibrationOptions(command, args);
    return p;
  }

  private void calibrationOptions(String command, Args args) {
    Preparation p = this;
    p.calibrationPerClass = args.integer("calibration-per-class", Ccvr.PER_CLASS_DEFAULT);
    p.calibrationEpochs = args.integer("calibration-epochs", Ccvr.EPOCHS_DEFAULT);
    p.calibrationLearningRate =
        args.number("calibration-learning-rate", Ccvr.LEARNING_RATE_DEFAULT);
    p.calibrationBatchSize = args.integer("calibration-batch-size", Ccvr.BATCH_SIZE_DEFAULT);
    p.calibrationShrinkage = args.number("calibration-shrinkage", Ccvr.SHRINKAGE_DEFAULT);
    p.calibrateFromScratch = args.flag("calibrate-from-scratch");
    if (!p.calibrate) {
      for (String option :
          new String[] {
            "calibration-per-class",
            "calibration-epochs",
            "calibration-learning-rate",
            "calibration-batch-size",
            "calibration-shrinkage",
            "calibrate-from-scratch"
          }) {
        if (args.has(option)) {
          throw new IllegalArgumentException(command + ": --" + option + " needs --calibrate");
        }
      }
    } else {
      p.calibrator(null, 0); // checks the calibration settings now
    }
  }

  /** Options of {@code init} that bootstrap the round-0 head ({@code --text}: see init). */
  static final List<Option> INIT_OPTIONS =
      List.of(
          Option.value(
              "bootstrap",
              "B",
              "round-0 head: zero-shot (from class text embeddings, --text), synthetic (trained on"
                  + " --synthetic TABLE) or none (zeros, default); a cache model: --model cache"),
          ZERO_SHOT_SCALE,
          Option.value(
              "synthetic",
              "TABLE",
              "--bootstrap synthetic: a Parquet file or the NAME of ROOT/synthetic/NAME.parquet;"
                  + " --dim and --classes optional"),
          Option.value("seed", "S", "seed of --bootstrap synthetic's training (default 0)"));

  /**
   * {@code init --bootstrap zero-shot --text FILE} or {@code --bootstrap synthetic --synthetic
   * TABLE}: sets the round-0 head of {@code federation}; false for {@code none}. {@code --dim} and
   * {@code --classes}, when given, must match the text embeddings or the table.
   */
  static boolean initBootstrap(Args args, Federation federation, Store store, float logitScale) {
    String how = args.string("bootstrap", NONE);
    Integer dim = args.has("dim") ? args.integer("dim", 0) : null;
    Integer classes = args.has("classes") ? args.integer("classes", 0) : null;
    switch (how) {
      case NONE -> {
        for (String option : new String[] {"text", "synthetic", "zero-shot-scale"}) {
          if (args.has(option)) {
            throw new IllegalArgumentException("init: --" + option + " needs --bootstrap");
          }
        }
        return false;
      }
      case CACHE ->
          throw new IllegalArgumentException(
              "init: a cache model is made with --model cache --keys PATH");
      case Bootstraps.ZERO_SHOT -> {
        TextEmbeddings text = TextEmbeddings.read(args.required("text"), store.conf());
        text.requireShape(
            classes != null ? classes : text.classCount(), dim != null ? dim : text.dimension());
        federation.initialHead(
            Bootstraps.zeroShot(
                text,
                logitScale,
                args.number("zero-shot-scale", Bootstraps.ZERO_SHOT_SCALE_DEFAULT)),
            Bootstraps.ZERO_SHOT);
        return true;
      }
      case Bootstraps.SYNTHETIC -> {
        String table = args.required("synthetic");
        org.apache.hadoop.fs.Path file =
            table.contains("/") || table.endsWith(".parquet")
                ? new org.apache.hadoop.fs.Path(
                    table.contains("://")
                        ? table
                        : new java.io.File(table).getAbsoluteFile().toURI().toString())
                : SyntheticTable.inStore(store, table);
        SyntheticTable.Table read = SyntheticTable.read(file, store.conf());
        int tableClasses = read.provenance().getClassCount();
        if (classes != null && classes != tableClasses) {
          throw new InvalidInputException(
              file.toString(),
              "synthetic table has " + tableClasses + " classes, --classes says " + classes);
        }
        if (dim != null && dim != read.data().dimension()) {
          throw new InvalidInputException(
              file.toString(),
              "synthetic table has dimension " + read.data().dimension() + ", --dim says " + dim);
        }
        federation.initialHead(
            Bootstraps.trained(
                read.data(),
                tableClasses,
                logitScale,
                Bootstraps.trainSettings(args.longValue("seed", 0))),
            Bootstraps.SYNTHETIC);
        return true;
      }
      default ->
          throw new IllegalArgumentException(
              "init: --bootstrap must be none, zero-shot, synthetic or cache, got '" + how + "'");
    }
  }

  public String bootstrap() {
    return bootstrap;
  }

  /** The statistics sites report, or null when they report none. */
  public fedlake.core.synth.SiteStatistics siteStatistics() {
    return siteStatistics;
  }

  public boolean calibrate() {
    return calibrate;
  }

  /**
   * Sets the federation's round-0 head as {@code --bootstrap} asks (nothing for {@code none}).
   * Reads and checks the text embeddings first, so bad input fails before anything is written.
   */
  public void bootstrap(
      SparkSession spark,
      Store store,
      Federation federation,
      int classes,
      int dimension,
      float logitScale,
      long seed,
      Consumer<String> log) {
    switch (bootstrap) {
      case NONE -> {}
      case CACHE -> throw new IllegalArgumentException("a cache model is made with --model cache");
      case Bootstraps.ZERO_SHOT -> {
        TextEmbeddings embeddings = readText(store.conf(), classes, dimension);
        federation.initialHead(
            Bootstraps.zeroShot(embeddings, logitScale, zeroShotScale), Bootstraps.ZERO_SHOT);
        log.accept("bootstrap: zero-shot head from " + text);
      }
      case Bootstraps.SYNTHETIC -> {
        TextEmbeddings embeddings = readText(store.conf(), classes, dimension);
        store
            .latest()
            .ifPresent(
                latest -> {
                  throw new IllegalStateException(
                      "Cannot init "
                          + store.root()
                          + ": it already holds a federation at round "
                          + latest.round()
                          + " (use a new store URI)");
                });
        Synthesize.Result table =
            new Synthesize(spark, store)
                .source(new TextSource(embeddings, textNoise))
                .perClass(syntheticPerClass)
                .seed(seed)
                .name("bootstrap-text-m" + syntheticPerClass + "-seed" + seed)
                .execute();
        Dataset rows = SyntheticTable.read(table.file(), store.conf()).data();
        Head head = Bootstraps.trained(rows, classes, logitScale, Bootstraps.trainSettings(seed));
        federation.initialHead(head, Bootstraps.SYNTHETIC);
        log.accept(
            "bootstrap: head trained on "
                + table.rows()
                + " synthetic rows ("
                + table.file()
                + ")");
      }
      default -> throw new IllegalStateException("unknown bootstrap " + bootstrap);
    }
  }

  private TextEmbeddings readText(Configuration conf, int classes, int dimension) {
    return TextEmbeddings.read(text, conf).requireShape(classes, dimension);
  }

  /** The calibrator of the round job, or null without {@code --calibrate}. */
  public Calibrator calibrator(Dataset probe, long seed) {
    if (!calibrate) {
      return null;
    }
    return new Ccvr()
        .perClass(calibrationPerClass)
        .epochs(calibrationEpochs)
        .learningRate(calibrationLearningRate)
        .batchSize(calibrationBatchSize)
        .shrinkage(calibrationShrinkage)
        .fromScratch(calibrateFromScratch)
        .seed(seed)
        .probe(probe);
  }
}
