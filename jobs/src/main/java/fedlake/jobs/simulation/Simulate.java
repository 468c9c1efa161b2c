package fedlake.jobs.simulation;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.cli.Option;
import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.data.DirichletSplit;
import fedlake.core.init.Federation;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.round.AuditStatus;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.core.strategy.RobustSettings;
import fedlake.core.train.TrainSettings;
import fedlake.edge.EdgeMain;
import fedlake.edge.EdgeTrain;
import fedlake.jobs.cli.JobOptions;
import fedlake.jobs.cli.Preparation;
import fedlake.jobs.cli.SpecCommands;
import fedlake.jobs.report.LinePlot;
import fedlake.jobs.spark.Spark;
import fedlake.jobs.spark.SparkScanner;
import fedlake.schema.FederationSpec;
import fedlake.schema.Model;
import fedlake.schema.RobustnessSpec;
import fedlake.schema.RoundHistory;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.SparkSession;

/**
 * A federated simulation on embedding files: Dirichlet label split over sites, then rounds of the
 * real edge-runner training and the real Spark round job against a store, with the published model
 * evaluated on the test rows after every round.
 */
public final class Simulate {
  // options the clustered simulation shares, declared once
  static final Option SITES = Option.value("sites", "N", "number of sites (default 10)");
  static final Option ALPHA =
      Option.value(
          "alpha",
          "A",
          "Dirichlet concentration of the label split (default 0.5; smaller = more skewed)");
  static final Option ROUNDS = Option.value("rounds", "R", "rounds to run (default 10)");
  static final Option SEED =
      Option.value("seed", "S", "seed of the split and of local training (default 0)");
  static final Option STORE =
      StoreConfig.STORE.withHelp("store to use (default: a new temporary folder)");
  static final Option REPORT_JSON =
      Option.value("report-json", "FILE", "write the per-round report as JSON");
  static final Option STRATEGY =
      SpecCommands.option("strategy")
          .withHelp(
              "aggregation strategy (default scaffold): "
                  + String.join(", ", fedlake.core.strategy.Strategies.names()));
  static final Option SITE_TEST_ROWS =
      Option.value(
          "site-test-rows",
          "N",
          "with --personalise: test rows per site, drawn with the site's own label distribution"
              + " (default "
              + PersonalEvaluation.ROWS_DEFAULT
              + ")");

  /** What sites do: the spec's client options that simulate takes. */
  static final List<Option> TRAINING =
      List.of(
          SpecCommands.option("local-epochs"),
          SpecCommands.option("batch-size"),
          SpecCommands.option("learning-rate"),
          SpecCommands.option("momentum"),
          SpecCommands.option("weight-decay"),
          SpecCommands.option("balanced-loss"));

  public static final CommandLine COMMAND =
      CommandLine.of(
              "simulate",
              "usage: fedlake simulate --data DIR --sites N --alpha A --rounds R --seed S [options]")
          .value("data", "DIR", "folder with train_X.npy, train_y.npy, test_X.npy, test_y.npy")
          .with(SITES, ALPHA, ROUNDS, SEED, STORE, REPORT_JSON)
          .value("plot", "FILE", "write test accuracy per round as a PNG chart")
          .with(JobOptions.MASTER, STRATEGY)
          .text("  strategy parameters (docs/strategies.md):")
          .with(SpecCommands.strategyParameters())
          .with(SpecCommands.option("mu"))
          .text("  what sites do (the edge runner's training options):")
          .with(TRAINING)
          .with(SpecCommands.option("update-encoding"))
          .value(
              "model",
              "K",
              "head (default) or cache: a Tip-Adapter cache whose keys are synthetic samples of every"
                  + " class (--synthetic-per-class keys per class, from the sites' pooled class"
                  + " statistics; --text FILE makes the cache's head part zero-shot)")
          .value(
              "cache-alpha",
              "A",
              "weight of the cache logits (default 16 / M, times 0.1 with --text)")
          .value(
              "cache-beta",
              "B",
              "sharpness of the key affinities (default " + CacheModel.BETA_DEFAULT + ")")
          .value(
              "holdout",
              "F",
              "sites keep this share of their rows out of training and report the received model's"
                  + " accuracy on them (edge train --holdout; history's site accuracy spread)")
          .value(
              "attack",
              "A",
              "make --attackers of the sites malicious: sign-flip, scale, examples, noise,"
                  + " label-flip; absent: they send nothing (the honest sites alone, as a reference)")
          .value(
              "attackers",
              "F",
              "share of the sites that attack (default 0.2 with --attack; drawn with --seed)")
          .value(
              "sample",
              "Q",
              "share of the sites drawn to train each round (default 1; under --privacy the"
                  + " mechanism's draw)")
          .text("  central differential privacy (docs/privacy.md; the population is --sites):")
          .with(SpecCommands.PRIVACY)
          .with(
              EdgeMain.LOCAL_DP_NOISE.withHelp(
                  "every site adds local DP noise (std Z x --local-dp-clip S) before upload"),
              EdgeMain.LOCAL_DP_CLIP)
          .value(
              "late",
              "F",
              "share of the sites that are always late: each trains from the model of 1 or 2 rounds"
                  + " before (alternately, drawn with --seed) and uploads after that round was"
                  + " aggregated")
          .with(
              SpecCommands.option("late-updates"),
              SpecCommands.option("max-staleness"),
              SpecCommands.option("staleness-exponent"))
          .flag(
              "personalise",
              "FedDAT personalisation (docs/personalisation.md): sites keep a local head next to the"
                  + " shared one; reports per site the personalised and the global model's accuracy"
                  + " on test rows drawn with the site's own label distribution")
          .with(SITE_TEST_ROWS)
          .with(SpecCommands.PERSONALISATION)
          .text("  robust aggregation (docs/robustness.md):")
          .with(SpecCommands.ROBUST)
          .text("  secure aggregation (docs/secure-aggregation.md):")
          .with(SpecCommands.SECURE)
          .value(
              "dropouts",
              "F",
              "with --secure-aggregation on: share of the sites that drop out after their shares each"
                  + " round (default 0)")
          .text("  heterogeneous sites (docs/forward-only.md):")
          .with(SimulateBudgets.OPTIONS)
          .text("  sites without labels (docs/unlabeled.md):")
          .with(SimulateUnlabeled.OPTIONS)
          .text("  round-0 model, site statistics and calibration (docs/synthetic.md):")
          .with(Preparation.TEXT)
          .with(Preparation.OPTIONS)
          .with(StoreConfig.CONF);

  public static final String USAGE = COMMAND.usage();

  private String dataDir;
  private int sites = 10;
  private double alpha = 0.5;
  private int rounds = 10;
  private long seed = 0;
  private TrainSettings settings = TrainSettings.defaults(0);
  private String storeUri;
  private StoreConfig storeConfig = StoreConfig.empty();
  private Path reportJson;
  private Path plot;
  private String strategy = "scaffold";
  private final java.util.Map<String, Double> strategyParameters = new java.util.TreeMap<>();
  private double mu;
  private String master;
  private PrintStream out;
  private Preparation preparation = Preparation.none();
  private SimulateCache cache = SimulateCache.head();
  private Attack attack;
  private double attackerFraction = 0.2;
  private double holdout;
  private java.util.function.Consumer<RobustnessSpec> robustness = r -> {};
  private java.util.function.Consumer<fedlake.schema.RoundPolicySpec> roundPolicy = p -> {};
  private double lateFraction;
  private double sample = 1.0;
  private double localDpNoise;
  private double localDpClip = 1.0;
  private fedlake.schema.UpdateEncoding encoding = fedlake.schema.UpdateEncoding.FP32;
  private java.util.function.Consumer<fedlake.schema.FederationSpec.Builder> privacy = spec -> {};
  private boolean personalise;
  private int siteTestRows = PersonalEvaluation.ROWS_DEFAULT;
  private java.util.function.Consumer<fedlake.schema.ClientSpec> personalisation = c -> {};
  private PersonalEvaluation.Result personal;
  private SimulateBudgets budgets = SimulateBudgets.none();
  private double dropouts; // secure aggregation: share of the sites that drop out each round
  private SimulateUnlabeled unlabeled = SimulateUnlabeled.none();

  public static Simulate fromArgs(String[] argv) {
    argv = SimulateUnlabeled.withZeroShot(argv);
    Args args = COMMAND.parse(argv);
    Simulate simulate =
        new Simulate()
            .data(args.required("data"))
            .sites(args.integer("sites", 10))
            .alpha(args.number("alpha", 0.5))
            .rounds(args.integer("rounds", 10))
            .seed(args.longValue("seed", 0))
            .settings(
                EdgeMain.settings(args)
                    .withEpochs(args.integer("local-epochs", TrainSettings.EPOCHS_DEFAULT)));
    simulate.strategy = args.string("strategy", "scaffold");
    for (Option o : SpecCommands.strategyParameters()) {
      if (args.has(o.name())) {
        simulate.strategyParameters.put(o.name(), SpecCommands.parameterValue(args, o.name()));
      }
    }
    simulate.mu = args.number("mu", 0);
    simulate.holdout = args.number("holdout", 0);
    if (args.has("attack")) {
      simulate.attack(Attack.of(args.required("attack")), args.number("attackers", 0.2));
    } else if (args.has("attackers")) {
      throw new IllegalArgumentException("simulate: --attackers needs --attack");
    }
    simulate.robustness = r -> SpecCommands.applyRobust(args, r);
    simulate.late(args.number("late", 0));
    simulate.sample = args.number("sample", 1.0);
    if (!(simulate.sample > 0 && simulate.sample <= 1)) {
      throw new IllegalArgumentException(
          "simulate: --sample must be in (0, 1], got " + simulate.sample);
    }
    simulate.privacy =
        spec -> {
          SpecCommands.applyPrivacy(args, spec);
          SpecCommands.applySecure(args, spec); // docs/secure-aggregation.md
        };
    simulate.dropouts = args.number("dropouts", 0);
    simulate.localDpNoise = args.number("local-dp-noise", 0);
    simulate.localDpClip = args.number("local-dp-clip", 1.0);
    simulate.roundPolicy = p -> SpecCommands.applyRoundPolicy(args, p);
    if (args.has("update-encoding")) {
      simulate.encoding = SpecCommands.updateEncoding(args.required("update-encoding"));
    }
    if (args.flag("personalise")) {
      simulate.personalise(args.integer("site-test-rows", PersonalEvaluation.ROWS_DEFAULT));
      simulate.personalisation = client -> SpecCommands.applyPersonalisation(args, client);
    } else if (args.has("site-test-rows")) {
      throw new IllegalArgumentException("simulate: --site-test-rows needs --personalise");
    }
    simulate.storeUri = args.string("store", null);
    simulate.storeConfig = StoreConfig.of(args);
    simulate.master = args.string("master", null);
    simulate.preparation = Preparation.fromArgs("simulate", args);
    simulate.cache = SimulateCache.fromArgs(args);
    simulate.budgets = SimulateBudgets.fromArgs(args);
    simulate.unlabeled = SimulateUnlabeled.fromArgs(args, simulate.sites, simulate.seed);
    if (args.has("report-json")) {
      simulate.reportJson = Path.of(args.required("report-json"));
    }
    if (args.has("plot")) {
      simulate.plot = Path.of(args.required("plot"));
    }
    return simulate;
  }

  /**
   * Makes {@code fraction} of the sites (drawn with the seed) malicious in the way of {@code
   * value}.
   */
  public Simulate attack(Attack value, double fraction) {
    Attack.attackers(1, fraction, 0); // checks the fraction
    this.attack = java.util.Objects.requireNonNull(value, "attack");
    this.attackerFraction = fraction;
    return this;
  }

  /**
   * Makes {@code fraction} of the sites (drawn with the seed) always late: each trains from the
   * model of 1 or 2 rounds before (alternately) and uploads after that round was aggregated.
   */
  public Simulate late(double fraction) {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException(
          "simulate: --late must be a fraction in [0, 1], got " + fraction);
    }
    this.lateFraction = fraction;
    return this;
  }

  /** Sets what the round job does with late updates (roundPolicy.lateUpdates and its settings). */
  public Simulate lateUpdates(
      fedlake.schema.LateUpdatePolicy policy, int maxStaleness, double exponent) {
    this.roundPolicy =
        p -> {
          p.setLateUpdates(policy);
          p.setMaxStaleness(maxStaleness);
          p.setStalenessExponent(exponent);
        };
    return this;
  }

  /**
   * FedDAT personalisation (the spec's default settings): sites keep a local head, and the report
   * gives per site the personalised and the global accuracy on {@code rows} test rows drawn with
   * the site's label distribution.
   */
  public Simulate personalise(int rows) {
    if (rows < 1) {
      throw new IllegalArgumentException(
          "simulate: --site-test-rows must be at least 1, got " + rows);
    }
    this.personalise = true;
    this.siteTestRows = rows;
    return this;
  }

  /** After {@link #execute()} with {@link #personalise}: the last round's per-site evaluation. */
  public PersonalEvaluation.Result personalResult() {
    return personal;
  }

  /** Sets robust aggregation in the federation spec (clipping, weight cap, rule). */
  public Simulate robust(RobustSettings value) {
    this.robustness =
        r -> {
          r.setAggregation(value.rule().id());
          r.setAttackerFraction(value.attackerFraction());
          r.setClipNorm(value.clipNorm());
          r.setClipMedianMultiple(value.clipMedianMultiple());
          r.setWeightMedianMultiple(value.weightMedianMultiple());
          r.setExcludeMedianMultiple(value.excludeMedianMultiple());
          r.setDirectionFloor(value.directionFloor());
          r.setDirectionReference(value.directionReference().id());
          r.setMisdirectedCeiling(value.misdirectedCeiling());
          r.setDirectionMadMultiple(value.directionMadMultiple());
        };
    return this;
  }

  public Simulate data(String value) {
    this.dataDir = value;
    return this;
  }

  public Simulate sites(int value) {
    if (value < 1) {
      throw new IllegalArgumentException("simulate: --sites must be at least 1, got " + value);
    }
    this.sites = value;
    return this;
  }

  public Simulate alpha(double value) {
    if (!(value > 0)) {
      throw new IllegalArgumentException("simulate: --alpha must be positive, got " + value);
    }
    this.alpha = value;
    return this;
  }

  public Simulate rounds(int value) {
    if (value < 0) {
      throw new IllegalArgumentException("simulate: --rounds must be >= 0, got " + value);
    }
    this.rounds = value;
    return this;
  }

  public Simulate seed(long value) {
    this.seed = value;
    return this;
  }

  public Simulate settings(TrainSettings value) {
    this.settings = value;
    return this;
  }

  /** Which model kind to run; {@link SimulateCache#cache()} for a Tip-Adapter cache. */
  public Simulate model(SimulateCache value) {
    this.cache = java.util.Objects.requireNonNull(value, "model");
    return this;
  }

  public Simulate store(String uri) {
    this.storeUri = uri;
    return this;
  }

  /**
   * Hadoop settings for the store (s3a endpoint, credentials), applied over the Spark session's.
   */
  public Simulate storeConfig(StoreConfig value) {
    this.storeConfig = java.util.Objects.requireNonNull(value, "storeConfig");
    return this;
  }

  public Simulate reportJson(Path file) {
    this.reportJson = file;
    return this;
  }

  /** The sites' optimizer, forward-only settings and per-class budgets. */
  public Simulate budgets(SimulateBudgets value) {
    this.budgets = java.util.Objects.requireNonNull(value, "budgets");
    return this;
  }

  /** Bootstrap, site statistics and calibration options. */
  public Simulate preparation(Preparation value) {
    this.preparation = java.util.Objects.requireNonNull(value, "preparation");
    return this;
  }

  public Simulate progress(PrintStream value) {
    this.out = value;
    return this;
  }

  /** One evaluated round: the model published after {@code round} rounds. */
  public record RoundReport(
      int round,
      double testAccuracy,
      double testLoss,
      int participants,
      int rejected,
      long totalExamples,
      Double weightedLocalLoss,
      double seconds,
      Double epsilon) {}

  /**
   * What the round job did with one site's update (an attacker's, or an honest one that a robust
   * rule clipped, trimmed or excluded).
   */
  public record Defence(int round, String site, boolean attacker, String status, String reason) {}

  /**
   * Whether site {@code s} takes part in {@code round}: the privacy mechanism's draw under central
   * DP, else a seeded draw with probability --sample.
   */
  private boolean drawn(fedlake.core.privacy.CentralDp dp, int s, int round) {
    if (dp != null) {
      return dp.sampled(round, siteName(s));
    }
    return sample >= 1
        || new java.util.SplittableRandom(seed * 1_000_003L + round * 10_007L + s).nextDouble()
            < sample;
  }

  /**
   * The always-late sites (drawn with the seed, apart from the attackers' draw) and how many rounds
   * late each is: 1 and 2 alternately.
   */
  static java.util.Map<Integer, Integer> lateSites(int sites, double fraction, long seed) {
    java.util.Map<Integer, Integer> lag = new java.util.TreeMap<>();
    List<Integer> late = Attack.attackers(sites, fraction, seed + 7_919);
    for (int i = 0; i < late.size(); i++) {
      lag.put(late.get(i), 1 + i % 2);
    }
    return lag;
  }

  /** Parameters of a CLIP ViT-B/32 image encoder: what full fine-tuning would send. */
  static final long VIT_B32_IMAGE_PARAMETERS = 87_849_216L;

  /**
   * What the sites' updates cost, from history: means per accepted update over all rounds, the
   * largest peak memory one reported, and the bytes one update of full fine-tuning would take.
   */
  public record Costs(
      String encoding,
      long updates,
      double meanUploadBytes,
      double meanDownloadBytes,
      double meanTrainCpuMillis,
      long peakMemoryBytes,
      long fullFineTuningBytes) {}

  /**
   * What centralised training reaches under an attack (every training row in one place, the sites'
   * settings for {@code epochs} epochs): on all sites' rows, and on the honest sites' rows alone.
   * Their difference is what the attackers' data is worth, which no defence that leaves the
   * attackers out can win back.
   */
  public record Reference(int epochs, double allRows, double honestRows) {}

  /** The simulation's outcome; {@code store} is null when it was a temporary one (removed). */
  public record Report(
      String data,
      int sites,
      double alpha,
      int rounds,
      long seed,
      int classes,
      int dimension,
      List<Integer> siteSizes,
      List<RoundReport> history,
      String store,
      String attack,
      List<String> attackers,
      List<Defence> defence,
      Reference reference,
      Costs costs) {
    public double finalTestAccuracy() {
      return history.get(history.size() - 1).testAccuracy();
    }

    public int exitCode() {
      return 0;
    }
  }

  public Report execute() {
    if (dataDir == null) {
      throw new IllegalArgumentException("simulate: --data is required");
    }
    org.apache.hadoop.conf.Configuration local = new org.apache.hadoop.conf.Configuration();
    Dataset train = DatasetFiles.read(Path.of(dataDir, "train_X.npy").toString(), local);
    Dataset test = DatasetFiles.read(Path.of(dataDir, "test_X.npy").toString(), local);
    if (train.dimension() != test.dimension()) {
      throw new IllegalArgumentException(
          "simulate: train rows have dimension "
              + train.dimension()
              + " but test rows have "
              + test.dimension());
    }
    int classes = Math.max(train.classBound(), test.classBound());
    int[][] split = DirichletSplit.split(train.labels(), sites, alpha, seed);
    List<Integer> attackers =
        attack == null ? List.of() : Attack.attackers(sites, attackerFraction, seed);
    List<Dataset> siteData = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    for (int s = 0; s < split.length; s++) {
      Dataset own = train.select(split[s]);
      siteData.add(attackers.contains(s) ? attack.data(own, classes) : own);
      sizes.add(split[s].length);
    }
    String uri = storeUri != null ? storeUri : temporaryStore("fedlake-simulate-");
    log(
        "simulate: %s, %d train / %d test rows, %d classes, dim %d; %d sites (alpha %s, sizes %d..%d); store %s%s",
        dataDir,
        train.size(),
        test.size(),
        classes,
        train.dimension(),
        sites,
        alpha,
        sizes.stream().mapToInt(Integer::intValue).min().orElse(0),
        sizes.stream().mapToInt(Integer::intValue).max().orElse(0),
        uri,
        storeUri == null ? " (temporary, removed at the end; --store URI keeps one)" : "");

    Path states = temporaryFolder("fedlake-site-states-");
    SparkSession spark = Spark.session("fedlake-simulate", master);
    ExecutorService pool =
        Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
    try {
      Store store =
          Store.open(uri, storeConfig.applyTo(spark.sparkContext().hadoopConfiguration()));
      Federation federation =
          new Federation(store)
              .dimension(train.dimension())
              .classes(classes)
              .strategy(strategy, strategyParameters)
              .training(settings)
              .adjust(
                  spec -> {
                    spec.getClient().setProximalMu(mu);
                    spec.getClient().setUpdateEncoding(encoding);
                    if (personalise) {
                      spec.getClient()
                          .setPersonalisation(
                              fedlake.core.client.Personalisation.feddat().toSpec());
                      personalisation.accept(spec.getClient());
                    }
                    budgets.apply(spec.getClient());
                    unlabeled.adjust(spec.getClient());
                    robustness.accept(spec.getRobustness());
                    roundPolicy.accept(spec.getRoundPolicy());
                    privacy.accept(spec);
                    if (spec.getPrivacy() != null) {
                      if (spec.getPrivacy().getPopulation() == 0) {
                        spec.getPrivacy().setPopulation(sites);
                      }
                      if (sample < 1) {
                        spec.getPrivacy().setSampleFraction(sample);
                      }
                    }
                  });
      if (cache.kind().equals(Models.CACHE)) {
        cache.bootstrap(federation, siteData, classes, train.dimension(), seed, out);
      } else {
        preparation.bootstrap(
            spark,
            store,
            federation,
            classes,
            train.dimension(),
            Models.DEFAULT_LOGIT_SCALE,
            seed,
            line -> log("%s", line));
      }
      federation.execute();
      fedlake.core.round.Evaluation.register(store, test); // history gets testAccuracy each round
      List<RoundReport> history = new ArrayList<>();
      Head.Evaluation initial = Models.classifier(store.readModel(0, 0)).evaluate(test);
      history.add(new RoundReport(0, initial.accuracy(), initial.loss(), 0, 0, 0, null, 0, null));
      log(
          "%5s %9s %9s %6s %8s %10s %8s",
          "round", "test-acc", "test-loss", "sites", "rejected", "local-loss", "seconds");
      log(
          "%5d %9.4f %9.4f %6s %8s %10s %8s",
          0, initial.accuracy(), initial.loss(), "-", "-", "-", "-");
      SparkScanner scanner = new SparkScanner(spark);
      List<String> attackerNames = attackers.stream().map(Simulate::siteName).toList();
      List<Defence> defence = new ArrayList<>();
      FederationSpec spec = Specs.require(store);
      if (attack != null) {
        log(
            "attack: %s by %d of %d sites: %s; defence: %s",
            attack.id(),
            attackers.size(),
            sites,
            String.join(", ", attackerNames),
            RobustSettings.of(spec.getRobustness()).describe());
      }
      String caution = RobustSettings.caution(spec);
      if (caution != null) {
        log("note: %s", caution);
      }
      Reference reference =
          attack == null ? null : reference(train, test, split, attackers, classes);
      if (reference != null) {
        log(
            "centralised reference (%d epochs, every row in one place): %.4f on all sites' rows,"
                + " %.4f on the honest sites' rows alone",
            reference.epochs(), reference.allRows(), reference.honestRows());
      }
      double maxAbs = spec.getRobustness().getMaxAbsValue();
      java.util.Map<Integer, Integer> lag = lateSites(sites, lateFraction, seed);
      String secret = "simulate-server-secret-" + seed;
      fedlake.core.privacy.CentralDp dp = fedlake.core.privacy.CentralDp.of(spec, sites, secret);
      if (dp != null) {
        log("privacy: %s", dp.describe());
      }
      if (unlabeled.any()) {
        log("%s", unlabeled.describe(sites));
      }
      if (!lag.isEmpty()) {
        log(
            "late: %d of %d sites, each 1 or 2 rounds late (site: rounds) %s; late updates: %s",
            lag.size(),
            sites,
            lag.entrySet().stream().map(e -> siteName(e.getKey()) + ": " + e.getValue()).toList(),
            Specs.id(spec.getRoundPolicy().getLateUpdates()));
      }
      CostTotals cost = new CostTotals();
      List<Dataset> siteTests = new ArrayList<>();
      List<String> siteNames = new ArrayList<>();
      if (personalise) {
        for (int s = 0; s < sites; s++) {
          siteNames.add(siteName(s));
          siteTests.add(
              PersonalEvaluation.draw(
                  siteData.get(s), test, classes, siteTestRows, seed * 7_919L + s));
        }
        log(
            "personalise: %s; %d test rows a site, drawn with its own label distribution",
            fedlake.core.client.Personalisation.of(spec.getClient().getPersonalisation())
                .describe(),
            siteTestRows);
      }
      if (budgets.describe() != null) {
        log("%s", budgets.describe());
      }
      UploadSizes uploads = new UploadSizes();
      SecureSimulation secure =
          fedlake.core.secagg.SecAggSettings.on(spec)
              ? new SecureSimulation(store, siteData, states, dropouts, seed, pool)
              : null;
      for (int round = 0; round < rounds; round++) {
        long started = System.nanoTime();
        java.util.Map<Integer, Future<EdgeTrain.Result>> running = new java.util.TreeMap<>();
        for (int s = 0; s < sites && secure == null; s++) {
          int from = round - lag.getOrDefault(s, 0);
          if (from < 0) {
            continue; // a late site's first update arrives once its lag has passed
          }
          if (unlabeled.skips(s)) {
            continue; // --drop-unlabeled: the labelled sites alone
          }
          if (!drawn(dp, s, from)) {
            continue; // not drawn for the round: the site does not train
          }
          if (attack == Attack.ABSENT && attackers.contains(s)) {
            continue; // --attack absent: the attacker sites send nothing
          }
          TrainSettings siteSettings = settings.withSeed(seed * 1_000_003L + from * 10_007L + s);
          EdgeTrain edge =
              new EdgeTrain(store, siteName(s), siteData.get(s))
                  .settings(siteSettings)
                  .stateDir(states)
                  .fromRound(from)
                  .localDp(localDpClip, localDpNoise)
                  .siteStatistics(preparation.siteStatistics())
                  .holdout(holdout)
                  .siteClass(budgets.siteClass(s))
                  .unlabeled(unlabeled.hides(s));
          running.put(s, pool.submit(edge::execute));
        }
        java.util.Map<Integer, EdgeTrain.Result> results = new java.util.TreeMap<>();
        for (int s : running.keySet()) {
          EdgeTrain.Result trained = running.get(s).get();
          uploads.add(trained);
          results.put(s, trained);
          if (attackers.contains(s)) {
            attack.spoil(
                store, trained.updateFile(), maxAbs, seed * 1_000_003L + round * 10_007L + s);
          }
        }
        RoundResult result =
            secure != null
                ? secure.round(round, settings)
                : new RoundJob(store)
                    .scanner(scanner)
                    .dpSecret(secret)
                    .round(round)
                    .calibration(preparation.calibrator(test, seed))
                    .execute();
        if (result.status() != RoundResult.Status.PUBLISHED) {
          throw new IllegalStateException(
              "simulate: round " + round + " published nothing: " + result.message());
        }
        Model next = result.published().get(0);
        java.util.Map<String, Integer> statuses = new java.util.TreeMap<>();
        for (fedlake.schema.UpdateAudit row : result.audit()) {
          boolean attacker = attackerNames.contains(row.getSite());
          if (attacker || !AuditStatus.ACCEPTED.is(row.getStatus())) {
            defence.add(
                new Defence(round, row.getSite(), attacker, row.getStatus(), row.getReason()));
            statuses.merge(
                (attacker ? "attackers " : "honest ") + row.getStatus(), 1, Integer::sum);
          }
        }
        Head.Evaluation evaluation = Models.classifier(next).evaluate(test);
        RoundHistory h = result.history().get(0);
        cost.add(h);
        double seconds = (System.nanoTime() - started) / 1e9;
        history.add(
            new RoundReport(
                round + 1,
                evaluation.accuracy(),
                evaluation.loss(),
                h.getParticipants(),
                h.getRejected(),
                h.getTotalExamples(),
                h.getWeightedLocalLoss(),
                seconds,
                h.getEpsilon()));
        log(
            "%5d %9.4f %9.4f %6d %8d %10.4f %8.2f",
            round + 1,
            evaluation.accuracy(),
            evaluation.loss(),
            h.getParticipants(),
            h.getRejected(),
            h.getWeightedLocalLoss(),
            seconds);
        unlabeled.round(round, results, h, line -> log("%s", line));
        if (h.getEpsilon() != null) {
          log("      epsilon %.3f at delta %s", h.getEpsilon(), dp.delta());
        }
        if (!statuses.isEmpty() && dp == null) {
          log("      audit: %s", statuses.toString().replaceAll("[{}]", "").replace('=', ' '));
        }
        if (h.getCalibrationMessage() != null) {
          log("      %s", h.getCalibrationMessage());
        }
        if (personalise) {
          personal =
              PersonalEvaluation.evaluate(
                  next, states, store.root().toString(), siteNames, siteTests, null);
          log(
              "      per-site test rows: personalised %.4f, local head %.4f, global %.4f",
              personal.personalised(), personal.local(), personal.global());
        }
      }
      if (personal != null) {
        PersonalEvaluation.print(personal, null, line -> log("%s", line));
      }
      Report report =
          new Report(
              dataDir,
              sites,
              alpha,
              rounds,
              seed,
              classes,
              train.dimension(),
              sizes,
              history,
              storeUri,
              attack == null ? null : attack.id(),
              attackerNames,
              defence,
              reference,
              cost.costs(fedlake.core.codec.UpdateCodec.id(encoding)));
      Costs c = report.costs();
      log(
          "costs: %d updates (%s): mean %.1f KB up, %.1f KB down, %.0f ms training CPU per site and"
              + " round; peak memory %.0f MB (this JVM, all sites); full fine-tuning of a CLIP"
              + " ViT-B/32 image encoder would send %.1f MB an update, %.0fx more",
          c.updates(),
          c.encoding(),
          c.meanUploadBytes() / 1e3,
          c.meanDownloadBytes() / 1e3,
          c.meanTrainCpuMillis(),
          c.peakMemoryBytes() / 1e6,
          c.fullFineTuningBytes() / 1e6,
          c.meanUploadBytes() > 0 ? c.fullFineTuningBytes() / c.meanUploadBytes() : Double.NaN);
      if (reportJson != null) {
        writeJson(report, reportJson);
        log("report written to %s", reportJson);
      }
      if (plot != null) {
        double[] x = history.stream().mapToDouble(RoundReport::round).toArray();
        double[] y = history.stream().mapToDouble(RoundReport::testAccuracy).toArray();
        LinePlot.write(
            plot,
            "fedlake simulate: "
                + Path.of(dataDir).getFileName()
                + ", "
                + sites
                + " sites, alpha "
                + alpha,
            "round",
            "test accuracy",
            List.of(new LinePlot.Series("published model", x, y)));
        log("plot written to %s", plot);
      }
      uploads.describe().forEach(line -> log("%s", line));
      log("final test accuracy %.4f", report.finalTestAccuracy());
      return report;
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("simulate: site training failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("simulate: interrupted", e);
    } finally {
      pool.shutdownNow();
      spark.stop();
      removeTemporary(states);
      if (storeUri == null) {
        removeTemporary(Path.of(java.net.URI.create(uri)));
      }
    }
  }

  /** Sums of the history's cost columns over rounds. */
  private static final class CostTotals {
    private long updates;
    private long upload;
    private long download;
    private long cpu;
    private long peak;

    void add(RoundHistory h) {
      updates += h.getParticipants();
      upload += h.getUploadBytes() == null ? 0 : h.getUploadBytes();
      download += h.getDownloadBytes() == null ? 0 : h.getDownloadBytes();
      cpu += h.getSiteCpuMillis() == null ? 0 : h.getSiteCpuMillis();
      peak = Math.max(peak, h.getSitePeakMemoryBytes() == null ? 0 : h.getSitePeakMemoryBytes());
    }

    Costs costs(String encoding) {
      double n = Math.max(1, updates);
      return new Costs(
          encoding, updates, upload / n, download / n, cpu / n, peak, 4 * VIT_B32_IMAGE_PARAMETERS);
    }
  }

  static String siteName(int index) {
    return String.format("site-%03d", index);
  }

  static Path temporaryFolder(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException("simulate: cannot create a temporary folder", e);
    }
  }

  /** Deletes a temporary folder made by this command, with everything in it. */
  static void removeTemporary(Path folder) {
    if (!Files.exists(folder)) {
      return;
    }
    try (java.util.stream.Stream<Path> paths = Files.walk(folder)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("simulate: cannot remove temporary folder " + folder, e);
    }
  }

  static String temporaryStore(String prefix) {
    try {
      return Files.createTempDirectory(prefix).toUri().toString();
    } catch (IOException e) {
      throw new UncheckedIOException("simulate: cannot create a temporary store", e);
    }
  }

  private void log(String format, Object... args) {
    if (out != null) {
      out.println(String.format(Locale.ROOT, format, args));
    }
  }

  static void writeJson(Report report, Path file) {
    StringBuilder json = new StringBuilder("{\n");
    json.append("  \"data\": ").append(quote(report.data())).append(",\n");
    json.append(
        String.format(
            Locale.ROOT,
            "  \"sites\": %d,%n  \"alpha\": %s,%n  \"rounds_run\": %d,%n  \"seed\": %d,%n",
            report.sites(),
            report.alpha(),
            report.rounds(),
            report.seed()));
    json.append(
        String.format(
            Locale.ROOT,
            "  \"classes\": %d,%n  \"dimension\": %d,%n",
            report.classes(),
            report.dimension()));
    json.append("  \"site_sizes\": ").append(report.siteSizes()).append(",\n");
    json.append("  \"store\": ").append(quote(report.store())).append(",\n");
    json.append("  \"rounds\": [\n");
    for (int i = 0; i < report.history().size(); i++) {
      RoundReport r = report.history().get(i);
      json.append(
          String.format(
              Locale.ROOT,
              "    {\"round\": %d, \"test_accuracy\": %.6f, \"test_loss\": %.6f, \"participants\": %d, \"rejected\": %d, "
                  + "\"total_examples\": %d, \"weighted_local_loss\": %s, \"seconds\": %.3f, \"epsilon\": %s}%s%n",
              r.round(),
              r.testAccuracy(),
              r.testLoss(),
              r.participants(),
              r.rejected(),
              r.totalExamples(),
              r.weightedLocalLoss() == null
                  ? "null"
                  : String.format(Locale.ROOT, "%.6f", r.weightedLocalLoss()),
              r.seconds(),
              r.epsilon() == null ? "null" : String.format(Locale.ROOT, "%.6f", r.epsilon()),
              i + 1 < report.history().size() ? "," : ""));
    }
    json.append("  ],\n");
    Costs c = report.costs();
    json.append(
        String.format(
            Locale.ROOT,
            "  \"costs\": {\"encoding\": %s, \"updates\": %d, \"mean_upload_bytes\": %.1f,"
                + " \"mean_download_bytes\": %.1f, \"mean_train_cpu_millis\": %.1f,"
                + " \"peak_memory_bytes\": %d, \"full_fine_tuning_bytes\": %d},%n",
            quote(c.encoding()),
            c.updates(),
            c.meanUploadBytes(),
            c.meanDownloadBytes(),
            c.meanTrainCpuMillis(),
            c.peakMemoryBytes(),
            c.fullFineTuningBytes()));
    json.append("  \"attack\": ")
        .append(report.attack() == null ? "null" : quote(report.attack()))
        .append(",\n");
    json.append("  \"attackers\": [")
        .append(String.join(", ", report.attackers().stream().map(Simulate::quote).toList()))
        .append("],\n");
    Reference r = report.reference();
    json.append("  \"centralised_reference\": ")
        .append(
            r == null
                ? "null"
                : String.format(
                    Locale.ROOT,
                    "{\"epochs\": %d, \"all_rows\": %.6f, \"honest_rows\": %.6f}",
                    r.epochs(),
                    r.allRows(),
                    r.honestRows()))
        .append(",\n");
    json.append("  \"defence\": [\n");
    for (int i = 0; i < report.defence().size(); i++) {
      Defence d = report.defence().get(i);
      json.append(
          String.format(
              Locale.ROOT,
              "    {\"round\": %d, \"site\": %s, \"attacker\": %s, \"status\": %s, \"reason\": %s}%s%n",
              d.round(),
              d.site() == null ? "null" : quote(d.site()),
              d.attacker(),
              quote(d.status()),
              d.reason() == null ? "null" : quote(d.reason()),
              i + 1 < report.defence().size() ? "," : ""));
    }
    json.append("  ],\n");
    json.append(
        String.format(
            Locale.ROOT, "  \"final_test_accuracy\": %.6f%n}%n", report.finalTestAccuracy()));
    writeReport(file, json);
  }

  /**
   * The centralised references of an attacked run: heads trained from zeros with the sites'
   * settings on all training rows, and on the rows of the sites that do not attack.
   */
  private Reference reference(
      Dataset train, Dataset test, int[][] split, List<Integer> attackers, int classes) {
    List<Integer> honest = new ArrayList<>();
    for (int s = 0; s < split.length; s++) {
      if (!attackers.contains(s)) {
        for (int row : split[s]) {
          honest.add(row);
        }
      }
    }
    int[] rows = honest.stream().mapToInt(Integer::intValue).sorted().toArray();
    TrainSettings central = settings.withSeed(seed);
    return new Reference(
        Centralised.EPOCHS,
        Centralised.head(train, classes, central).evaluate(test).accuracy(),
        Centralised.head(train.select(rows), classes, central).evaluate(test).accuracy());
  }

  /** Writes a JSON report, creating its folder. */
  static void writeReport(Path file, CharSequence json) {
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      Files.writeString(file, json, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("simulate: cannot write report " + file, e);
    }
  }

  static String quote(String text) {
    if (text == null) {
      return "null";
    }
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
