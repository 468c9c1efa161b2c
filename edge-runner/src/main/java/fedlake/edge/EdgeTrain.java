package fedlake.edge;

import fedlake.core.InvalidInputException;
import fedlake.core.client.ClientRound;
import fedlake.core.client.ClientSettings;
import fedlake.core.client.SeededUpdate;
import fedlake.core.client.SiteBudget;
import fedlake.core.client.SiteState;
import fedlake.core.cluster.ClusterSelection;
import fedlake.core.data.Dataset;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.LateUpdates;
import fedlake.core.spec.Specs;
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.core.synth.SiteStatistics;
import fedlake.core.synth.StatisticsStore;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClassStatistics;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.ClientSpec;
import fedlake.schema.FederationSpec;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One site's part of a round: fetch the current model of its cluster, train it on local embeddings
 * (a head, or the keys of a cache model) with the client algorithm of the federation spec, upload
 * the update, keep the algorithm's state in the site's {@link SiteState}. No Spark.
 */
public final class EdgeTrain {
  public static final String VERSION = "0.1.0";

  /** Most local epochs a site may train: more only burns the site's time on an overfit update. */
  public static final int MAX_EPOCHS = 1000;

  /**
   * Largest local learning rate: with a logit scale of 10 larger steps diverge, and their update
   * exceeds the value limit or carries no information.
   */
  public static final double MAX_LEARNING_RATE = 10.0;

  private final Store store;
  private final String site;
  private final Dataset data;
  private TrainSettings settings = TrainSettings.defaults(0);
  private ClientSpec client = null;
  private ClientSettings.Overrides overrides = ClientSettings.Overrides.NONE;
  private Integer cluster = null;
  private PrintStream out = null;
  private Path stateDir = defaultStateDir();
  private fedlake.core.synth.SiteStatistics siteStatistics;
  private double holdout;
  private String siteClass;
  private Runnable beforeUpload = () -> {};
  private java.util.function.LongSupplier clock = System::currentTimeMillis;
  private Integer fromRound;
  private SiteKey signingKey;
  private java.util.function.Function<Update, String> uploader; // null: the store (secagg: masked)
  private double localDpClip;
  private double localDpNoise;
  private boolean unlabeled;

  public EdgeTrain(Store store, String site, Dataset data) {
    this.store = store;
    this.site = Store.checkSite(site);
    this.data = data;
  }

  /**
   * Training settings when no {@link #client(ClientSpec)} is given (default {@link
   * TrainSettings#defaults}); their seed is the shuffling seed either way.
   */
  public EdgeTrain settings(TrainSettings value) {
    this.settings = value;
    return this;
  }

  /**
   * The federation spec's client part: the algorithm (binding) and the training settings. Without
   * it the runner trains as before specs: SCAFFOLD when the model carries a control variate, else
   * plain SGD, with {@link #settings(TrainSettings)}.
   */
  public EdgeTrain client(ClientSpec value) {
    this.client = value;
    return this;
  }

  /**
   * The site's own training settings (from its command line); they win over the spec's and {@link
   * #settings}'.
   */
  public EdgeTrain overrides(ClientSettings.Overrides value) {
    this.overrides = value;
    return this;
  }

  /**
   * Train this cluster's model; without it the site's assignment decides, else the lowest local
   * loss (IFCA).
   */
  /** The clock that stamps the update's creation time (tests: a fixed order of uploads). */
  public EdgeTrain clock(java.util.function.LongSupplier value) {
    this.clock = java.util.Objects.requireNonNull(value, "clock");
    return this;
  }

  /**
   * Trains from the model of an earlier round, as a site that fetched it then and uploads only now
   * (a late site; simulations). Null (default): the current model.
   */
  public EdgeTrain fromRound(Integer value) {
    this.fromRound = value;
    return this;
  }

  /** Signs every update with {@code value} (null: unsigned). */
  EdgeTrain signingKey(SiteKey value) {
    this.signingKey = value;
    return this;
  }

  public EdgeTrain cluster(int value) {
    this.cluster = value;
    return this;
  }

  /**
   * Folder for the site's own state (see {@link SiteState}; SCAFFOLD's control variates); default
   * ~/.fedlake/state.
   */
  public EdgeTrain stateDir(Path value) {
    this.stateDir = value;
    return this;
  }

  /**
   * Opt in to reporting per-class statistics of the local embeddings (count, mean, variance and
   * optionally the full covariance) with the update; null (default) reports none. Every update of a
   * site that opts in carries the statistics' fingerprint; the statistics themselves only when the
   * server does not hold them already (ROOT/statistics/SITE.parquet). See docs/synthetic.md for
   * what they reveal.
   */
  public EdgeTrain siteStatistics(fedlake.core.synth.SiteStatistics value) {
    this.siteStatistics = value;
    return this;
  }

  /**
   * Keeps {@code fraction} of the local rows out of training, every round the same rows (drawn with
   * a seed from the site id), and reports the received model's accuracy on them with the update
   * ({@code holdoutAccuracy}); 0 (default) keeps none.
   */
  /**
   * Local differential privacy: before upload the site clips its change to {@code clip} and adds
   * Gaussian noise of standard deviation {@code noise x clip} to every parameter, drawn from the
   * JRE's SecureRandom, so that the update is differentially private on its own, whatever the
   * server does. {@code noise} 0 (default): off.
   */
  public EdgeTrain localDp(double clip, double noise) {
    if (!(clip > 0) || !(noise >= 0) || !Double.isFinite(clip) || !Double.isFinite(noise)) {
      throw new IllegalArgumentException(
          "local DP needs a positive --local-dp-clip and a --local-dp-noise >= 0, got "
              + clip
              + " and "
              + noise);
    }
    this.localDpClip = clip;
    this.localDpNoise = noise;
    return this;
  }

  /**
   * The site's class for the spec's budgets ({@code client.budgets}: an entry for the site id wins,
   * then one for its class); null (default): none.
   */
  public EdgeTrain siteClass(String value) {
    if (value != null && !value.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
      throw new IllegalArgumentException(
          "--site-class '"
              + value
              + "' must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    this.siteClass = value;
    return this;
  }

  /**
   * Trains without labels even where the rows have them (the spec must allow it: {@code
   * client.unlabeled}); the labels then only audit the pseudo-labels (docs/unlabeled.md). Rows
   * without a label train this way without it.
   */
  public EdgeTrain unlabeled(boolean value) {
    this.unlabeled = value;
    return this;
  }

  public EdgeTrain holdout(double fraction) {
    if (!(fraction >= 0 && fraction < 1)) {
      throw new IllegalArgumentException(
          "--holdout must be at least 0 and below 1 (a share of the local rows), got " + fraction);
    }
    this.holdout = fraction;
    return this;
  }

  /**
   * The rows kept out ({@code [0]}) and the training rows ({@code [1]}) of {@code size} rows: a
   * seeded shuffle by the site id, so that a site keeps the same rows out every round; at least one
   * row on each side.
   */
  static int[][] holdoutSplit(String site, int size, double fraction) {
    int kept = (int) Math.round(fraction * size);
    if (fraction > 0) {
      kept = Math.max(1, Math.min(size - 1, kept));
    }
    int[] order = new int[size];
    for (int i = 0; i < size; i++) {
      order[i] = i;
    }
    java.util.SplittableRandom random =
        new java.util.SplittableRandom(0x9E3779B97F4A7C15L ^ site.hashCode() * 0xC2B2AE3D27D4EB4FL);
    for (int i = size - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int[] out = java.util.Arrays.copyOfRange(order, 0, kept);
    int[] in = java.util.Arrays.copyOfRange(order, kept, size);
    java.util.Arrays.sort(out);
    java.util.Arrays.sort(in);
    return new int[][] {out, in};
  }

  public static Path defaultStateDir() {
    return Path.of(System.getProperty("user.home"), ".fedlake", "state");
  }

  /** Where progress goes; null for none. */
  public EdgeTrain progress(PrintStream value) {
    this.out = value;
    return this;
  }

  /**
   * Where the trained update goes instead of the store's update folder, returning what to report as
   * its file (secure aggregation masks it first: EdgeSecAgg); null for the store.
   */
  public EdgeTrain uploader(java.util.function.Function<Update, String> value) {
    this.uploader = value;
    return this;
  }

  /** Test seam: runs after training, right before the update is uploaded. */
  EdgeTrain beforeUpload(Runnable value) {
    this.beforeUpload = value;
    return this;
  }

  /**
   * Central differential privacy: scales the change of the trained parameters (stored layout, minus
   * the model's) down to {@code bound} in place, so that nothing longer leaves the site.
   */
  static void clipChange(
      Model model, float[] parameters, double bound, fedlake.core.privacy.Centring centring) {
    float[] base = Models.parameters(model);
    float[] change = new float[parameters.length];
    for (int i = 0; i < change.length; i++) {
      change[i] = (float) ((double) parameters[i] - base[i]);
    }
    if (fedlake.core.privacy.CentralDp.clip(change, bound, centring) > bound) {
      for (int i = 0; i < change.length; i++) {
        parameters[i] = (float) (base[i] + (double) change[i]);
      }
    }
  }

  /**
   * The centred coordinates the site trains in under central DP with a privacy.centre, or null.
   * Only plain labelled training of a head by backprop takes them: the other client modes keep
   * state (control variates, local heads, pseudo-labels) in stored coordinates.
   */
  private fedlake.core.privacy.Centring centring(
      FederationSpec spec, Model model, ClientSettings settings, boolean withoutLabels) {
    if (!fedlake.core.privacy.CentralDp.required(spec)) {
      return null;
    }
    fedlake.core.privacy.Centring centring =
        fedlake.core.privacy.Centring.of(spec.getPrivacy().getCentre(), model);
    if (centring != null
        && (withoutLabels
            || settings.personalisation() != null
            || settings.budget().forwardOnly() != null
            || settings.algorithm() == ClientAlgorithmName.SCAFFOLD)) {
      throw new IllegalArgumentException(
          "Site "
              + site
              + " will not train: privacy.centre takes plain labelled training by backprop (sgd or"
              + " prox), not SCAFFOLD, personalisation, unlabeled rows or forward-only training");
    }
    return centring;
  }

  /**
   * Local DP: clips the change of {@code parameters} (minus the model's) to {@code clip} and adds
   * N(0, (noise x clip)^2) to every value, in place.
   */
  static void noiseChange(
      Model model, float[] parameters, double clip, double noise, java.util.Random random) {
    clipChange(model, parameters, clip, null);
    double sigma = noise * clip;
    for (int i = 0; i < parameters.length; i++) {
      parameters[i] = (float) (parameters[i] + sigma * random.nextGaussian());
    }
  }

  /**
   * Why training with {@code train} can only give an update the round rejects or one that carries
   * nothing (no epoch, a divergent step size, an absurd number of epochs), or null.
   */
  public static String uselessSettings(TrainSettings train) {
    if (train.epochs() < 1 || train.epochs() > MAX_EPOCHS) {
      return train.epochs()
          + " local epochs cannot give a useful update: use 1 to "
          + MAX_EPOCHS
          + " (--epochs)";
    }
    if (!(train.learningRate() > 0 && train.learningRate() <= MAX_LEARNING_RATE)) {
      return "learning rate "
          + train.learningRate()
          + " cannot give an acceptable update: use a value above 0 and at most "
          + MAX_LEARNING_RATE
          + " (--learning-rate)";
    }
    return null;
  }

  /**
   * What one edge run produced. {@code missedRound}: the round job aggregated the round while the
   * site trained, so the update will not count and the site state was not advanced.
   */
  public record Result(
      String updateFile,
      int round,
      String baseModelVersion,
      long examples,
      int steps,
      double localLoss,
      double localAccuracy,
      long millis,
      boolean missedRound,
      long uploadBytes,
      long parameterBytes,
      boolean forwardOnly,
      fedlake.core.client.UnlabeledRound.Outcome withoutLabels) {}

  public Result execute() {
    long started = System.currentTimeMillis();
    Latest latest = store.requireLatest();
    if (fromRound != null && fromRound != latest.round()) {
      if (fromRound < 0 || fromRound > latest.round()) {
        throw new IllegalArgumentException(
            "Site "
                + site
                + " cannot train from round "
                + fromRound
                + ": the current round is "
                + latest.round());
      }
      java.util.TreeMap<Integer, String> versions = new java.util.TreeMap<>();
      latest
          .versions()
          .keySet()
          .forEach(c -> versions.put(c, store.readModel(fromRound, c).getVersion()));
      latest = new Latest(fromRound, versions);
    }
    ClusterSelection.Selection selection =
        ClusterSelection.select(store, latest, site, this.cluster, data);
    int cluster = selection.cluster();
    if (selection.choice() != null) {
      log(
          "site %s: no assignment; local loss per cluster %s, chose cluster %d",
          site, selection.losses(), cluster);
    }
    String version = latest.version(cluster);
    Model model = store.readModel(latest.round(), cluster);
    if (!Models.HEAD.equals(model.getKind()) && !Models.CACHE.equals(model.getKind())) {
      throw new IllegalStateException(
          "Site "
              + site
              + " cannot train model "
              + version
              + ": kind '"
              + model.getKind()
              + "' is not supported by this edge runner");
    }
    if (data.dimension() != model.getDimension()) {
      throw new InvalidInputException(
          data.source(),
          "embeddings have dimension "
              + data.dimension()
              + " but model "
              + version
              + " expects "
              + model.getDimension());
    }
    if (data.size() == 0) {
      throw new InvalidInputException(data.source(), "holds no rows");
    }
    FederationSpec specNow = Specs.current(store).orElse(null);
    boolean withoutLabels = unlabeled || hasUnlabelledRows(this.data);
    if (withoutLabels) {
      fedlake.schema.UnlabeledSpec allowed =
          client != null
              ? client.getUnlabeled()
              : specNow == null ? null : specNow.getClient().getUnlabeled();
      if (allowed == null) {
        throw new InvalidInputException(
            this.data.labelSource(),
            (unlabeled ? "--unlabeled was given" : "has rows without a label")
                + " but the federation spec requires labels (the operator allows training without"
                + " them with: fedlake spec set --labels optional)");
      }
      requireAuditLabelsBelow(this.data, model.getClassCount());
    } else {
      data.requireLabelsBelow(model.getClassCount());
    }
    Dataset data = this.data;
    Double holdoutAccuracy = null;
    Long holdoutExamples = null;
    if (holdout > 0) {
      if (data.size() < 2) {
        throw new InvalidInputException(
            data.source(), "holds 1 row: --holdout needs at least 2 (one kept out, one to train)");
      }
      int[][] split = holdoutSplit(site, data.size(), holdout);
      Dataset kept = data.select(split[0]);
      data = data.select(split[1]);
      holdoutAccuracy = Models.classifier(model).evaluate(kept).accuracy();
      holdoutExamples = (long) kept.size();
      log(
          "site %s: kept %d of %d rows out of training; received model's accuracy on them %.4f",
          site, kept.size(), this.data.size(), holdoutAccuracy);
    }
    log(
        "site %s: round %d, model %s, %d examples x %d dims, %d classes",
        site, latest.round(), version, data.size(), data.dimension(), model.getClassCount());
    FederationSpec spec = specNow;
    if (client == null && spec != null) {
      client = spec.getClient();
    }
    if (uploader == null && fedlake.core.secagg.SecAggSettings.on(spec)) {
      throw new IllegalStateException(
          "Site "
              + site
              + " will not upload a plain update: the federation runs secure aggregation; run"
              + " edge secagg, which masks the update before it leaves the site");
    }
    ClientSettings clientSettings = clientSettings(model);
    TrainSettings train = clientSettings.train();
    log(
        "site %s: client %s, %d epochs, batch %d, learning rate %s, momentum %s, weight decay %s%s%s",
        site,
        clientSettings.algorithm().name().toLowerCase(java.util.Locale.ROOT),
        train.epochs(),
        train.batchSize(),
        train.learningRate(),
        train.momentum(),
        train.weightDecay(),
        train.balancedLoss() ? ", balanced loss" : "",
        clientSettings.algorithm() == ClientAlgorithmName.PROX
            ? ", mu " + clientSettings.proximalMu()
            : "");
    if (clientSettings.budget() != SiteBudget.NONE) {
      log("site %s: budget: %s", site, clientSettings.budget().describe());
    }
    if (clientSettings.budget().forwardOnly() != null && localDpNoise > 0) {
      throw new IllegalArgumentException(
          "Site "
              + site
              + " will not train: forward-only updates travel as seeds and scalars, which local DP"
              + " noise cannot be added to (drop --local-dp-noise or train by backprop)");
    }
    String useless = uselessSettings(train);
    if (useless != null) {
      throw new IllegalArgumentException("Site " + site + " will not train: " + useless);
    }
    if (spec != null && spec.getRobustness().getRequireSignatures() && signingKey == null) {
      throw new IllegalStateException(
          "Site "
              + site
              + " will not train: the federation requires signed updates and this site has no key"
              + " (edge keygen --site "
              + site
              + ", then the operator runs fedlake site add with its .pub; or pass --key FILE)");
    }
    SiteState state = siteState();
    state.notes().forEach(note -> log("site %s: %s", site, note));
    long cpuBefore = fedlake.core.client.SiteCosts.threadCpuNanos();
    if (clientSettings.personalisation() != null) {
      log(
          "site %s: personalisation %s; only the shared head is uploaded",
          site, clientSettings.personalisation().describe());
    }
    LocalTrainer.Progress progress =
        out == null
            ? LocalTrainer.Progress.NONE
            : (epoch, epochs, loss) -> log("  epoch %d/%d  loss %.4f", epoch, epochs, loss);
    fedlake.core.client.UnlabeledRound.Outcome pseudo = null;
    ClientRound.Result trained;
    fedlake.core.privacy.Centring centring = centring(spec, model, clientSettings, withoutLabels);
    if (centring != null) {
      log("site %s: training in centred coordinates (privacy.centre)", site);
      trained =
          ClientRound.run(
              centring.centred(model),
              cluster,
              centring.shift(data),
              clientSettings,
              state,
              line -> log("site %s: %s", site, line),
              progress);
      centring.toStored(trained.parameters());
    } else if (withoutLabels) {
      pseudo =
          fedlake.core.client.UnlabeledRound.run(
              model,
              store.readModel(0, 0),
              cluster,
              latest.round(),
              data,
              clientSettings,
              fedlake.core.client.UnlabeledSettings.of(client.getUnlabeled()),
              state,
              line -> log("site %s: %s", site, line),
              progress);
      trained = pseudo.result();
    } else {
      trained =
          (clientSettings.personalisation() != null
                  ? (RoundRunner) fedlake.core.client.FedDatRound::run
                  : (RoundRunner) ClientRound::run)
              .run(
                  model,
                  cluster,
                  data,
                  clientSettings,
                  state,
                  line -> log("site %s: %s", site, line),
                  progress);
    }
    long cpuMillis = (fedlake.core.client.SiteCosts.threadCpuNanos() - cpuBefore) / 1_000_000;
    float[] controlDelta = trained.outcome().controlDelta();
    SeededUpdate seeded = trained.seeded();
    if (fedlake.core.privacy.CentralDp.required(spec) && seeded != null) {
      log(
          "site %s: forward-only: the change is not clipped here (it travels as scalars); the"
              + " round job clips it",
          site);
    } else if (fedlake.core.privacy.CentralDp.required(spec)) {
      clipChange(model, trained.parameters(), spec.getPrivacy().getClipNorm(), centring);
    }
    if (localDpNoise > 0) {
      noiseChange(
          model, trained.parameters(), localDpClip, localDpNoise, new java.security.SecureRandom());
      log(
          "site %s: local DP: change clipped to %s, Gaussian noise of std %s added; this upload alone"
              + " is (%.3f, 1e-5)-DP (rounds compose: docs/privacy.md)",
          site,
          localDpClip,
          localDpNoise * localDpClip,
          fedlake.core.privacy.RdpAccountant.sampledGaussian(1, localDpNoise, 1)
              .epsilon(1e-5)
              .epsilon());
    }
    List<ClassStatistics> statistics = null;
    String fingerprint = null;
    if (siteStatistics != null) {
      List<ClassStatistics> mine = siteStatistics.of(data, model.getClassCount());
      fingerprint = SiteStatistics.fingerprint(mine);
      boolean held = fingerprint.equals(new StatisticsStore(store).fingerprint(site));
      statistics = held ? null : mine;
      log(
          "site %s: class statistics %s (%d classes, fingerprint %s)",
          site,
          held ? "unchanged, held by the server: not sent" : "sent",
          mine.size(),
          fingerprint.substring(0, 12));
    }
    Update update =
        Update.newBuilder()
            .setUpdateId(UUID.randomUUID().toString())
            .setSite(site)
            .setRound(latest.round())
            .setCluster(cluster)
            .setBaseModelVersion(version)
            .setKind(model.getKind())
            .setDimension(model.getDimension())
            .setClassCount(model.getClassCount())
            .setNumExamples(data.size())
            .setLocalEpochs(train.epochs())
            .setLocalSteps(trained.steps())
            .setWeights(FloatArrays.asList(trained.weights()))
            .setBias(FloatArrays.asList(trained.bias()))
            .setCacheKeys(FloatArrays.asList(trained.cacheKeys()))
            .setControlDelta(FloatArrays.asList(controlDelta))
            .setLocalLoss(trained.loss())
            .setLocalAccuracy(trained.accuracy())
            .setLabelHistogram(
                FloatArrays.asList(
                    pseudo != null
                        ? pseudo.pseudoHistogram()
                        : data.labelHistogram(model.getClassCount())))
            .setTrainedWithoutLabels(pseudo == null ? null : Boolean.TRUE)
            .setPseudoLabelAccuracy(pseudo == null ? null : pseudo.pseudoLabelAccuracy())
            .setAuditAccuracy(pseudo == null ? null : pseudo.auditAccuracy())
            .setAuditZeroShotAccuracy(pseudo == null ? null : pseudo.auditZeroShotAccuracy())
            .setPredictionSum(
                pseudo == null || pseudo.predictionSum() == null
                    ? null
                    : FloatArrays.asList(pseudo.predictionSum()))
            .setPredictionRows(
                pseudo == null || pseudo.predictionSum() == null ? null : (long) data.size())
            .setClusterChoice(selection.choice())
            .setClassStatistics(statistics)
            .setStatisticsFingerprint(fingerprint)
            .setHoldoutAccuracy(holdoutAccuracy)
            .setHoldoutExamples(holdoutExamples)
            .setSpecVersion(spec == null ? 0 : spec.getSpecVersion())
            .setRunnerVersion(VERSION)
            .setCreatedTime(Instant.ofEpochMilli(clock.getAsLong()))
            .setDownloadBytes(downloadBytes(latest.round(), cluster, spec))
            .setTrainCpuMillis(cpuMillis)
            .setPeakMemoryBytes(fedlake.core.client.SiteCosts.peakMemoryBytes())
            .build();
    fedlake.schema.UpdateEncoding encoding =
        spec == null ? fedlake.schema.UpdateEncoding.FP32 : spec.getClient().getUpdateEncoding();
    fedlake.core.codec.UpdateCodec.Pending encoded =
        seeded != null // a forward-only update travels as seed and scalars, smaller still
            ? u -> {}
            : fedlake.core.codec.UpdateCodec.prepare(
                update, model, encoding, train.seed() * 1_000_003L + latest.round());
    if (signingKey != null) {
      signingKey.sign(update); // over the parameters as the round job will decode or replay them
    }
    encoded.pack(update);
    if (seeded != null) {
      update.setWeights(List.of());
      update.setBias(List.of());
      update.setSeededSeed(seeded.seed());
      update.setSeededLearningRate(seeded.learningRate());
      update.setSeededDirections(seeded.directions());
      update.setSeededScalars(FloatArrays.asList(seeded.scalars()));
      if (seeded.chosen()) {
        update.setSeededIndices(java.nio.ByteBuffer.wrap(seeded.indices()));
      }
    }
    long parameterBytes =
        seeded != null ? seeded.bytes() : fedlake.core.codec.UpdateCodec.parameterBytes(update);
    beforeUpload.run();
    String file;
    try {
      file = uploader != null ? uploader.apply(update) : store.writeUpdate(update).toString();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Site " + site + " cannot upload its update to " + store.root() + ": " + e.getMessage(),
          e);
    }
    Map<String, float[]> keep = trained.outcome().state();
    // the round job may have aggregated the round while the site trained: then the update will
    // not count, and the site's state (SCAFFOLD's c_i) must stay as the server last saw it
    Latest after = store.requireLatest();
    boolean missed = after.round() != latest.round();
    LateUpdates late = LateUpdates.of(spec);
    if (missed && late.buffered() && after.round() - latest.round() <= late.maxStaleness()) {
      missed = false; // it counts late, in the next round aggregated
      log(
          "site %s: round %d was aggregated while this site trained (the current round is %d):"
              + " the round policy buffers late updates, this one counts in round %d, weighted"
              + " down by its staleness",
          site, latest.round(), after.round(), after.round());
    }
    if (missed) {
      log(
          "site %s: round %d was aggregated while this site trained (the current round is %d): the"
              + " update will not count; the site state was left as it was",
          site, latest.round(), after.round());
    } else if (!keep.isEmpty()) {
      SiteState.Edit edit = state.edit();
      keep.forEach((name, values) -> edit.put(cluster, name, values));
      try {
        edit.commit();
      } catch (UncheckedIOException e) {
        throw new UncheckedIOException(
            "Site " + site + " cannot save its state: " + e.getMessage(), e.getCause());
      }
    }
    long millis = System.currentTimeMillis() - started;
    long uploadBytes = uploadSize(file);
    log(
        "site %s: wrote %s (loss %.4f, accuracy %.3f, %d steps, %d ms; upload %d bytes, parameters"
            + " %s %d bytes; %d bytes down, %d ms CPU)",
        site,
        file,
        trained.loss(),
        trained.accuracy(),
        trained.steps(),
        millis,
        uploadBytes,
        seeded != null
            ? "as seed and scalars"
            : "in " + fedlake.core.codec.UpdateCodec.id(encoding),
        parameterBytes,
        update.getDownloadBytes(),
        cpuMillis);
    return new Result(
        file,
        latest.round(),
        version,
        data.size(),
        trained.steps(),
        trained.loss(),
        trained.accuracy(),
        millis,
        missed,
        uploadBytes,
        parameterBytes,
        seeded != null,
        pseudo);
  }

  /** The uploaded file's size in bytes, -1 when the store cannot tell. */
  private long uploadSize(String file) {
    try {
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(file);
      return path.getFileSystem(store.conf()).getFileStatus(path).getLen();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Bytes this round's download took: the model file trained and the spec file read. */
  private long downloadBytes(int round, int cluster, FederationSpec spec) {
    try {
      org.apache.hadoop.fs.FileSystem fs = store.fileSystem();
      long bytes = fs.getFileStatus(store.modelFile(round, cluster)).getLen();
      if (spec != null) {
        bytes += fs.getFileStatus(Specs.file(store, spec.getSpecVersion())).getLen();
      }
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Site " + site + " cannot size what it read from " + store.root() + ": " + e, e);
    }
  }

  private static boolean hasUnlabelledRows(Dataset data) {
    for (int label : data.labels()) {
      if (label == Dataset.UNLABELLED) {
        return true;
      }
    }
    return false;
  }

  /** Labels a site holds but does not train on (an audit) must still name the model's classes. */
  private static void requireAuditLabelsBelow(Dataset data, int classCount) {
    for (int row = 0; row < data.size(); row++) {
      if (data.label(row) >= classCount) {
        throw new InvalidInputException(
            data.labelSource(),
            "row "
                + row
                + " has label "
                + data.label(row)
                + " but the model has "
                + classCount
                + " classes (0.."
                + (classCount - 1)
                + ")");
      }
    }
  }

  /**
   * What the site trains with: the spec's client settings, else as before specs; the site's
   * overrides win.
   */
  ClientSettings clientSettings(Model model) {
    if (client != null) {
      return ClientSettings.of(client, settings.seed(), site, siteClass).with(overrides);
    }
    ClientAlgorithmName algorithm =
        model.getControlVariate().isEmpty()
            ? ClientAlgorithmName.SGD
            : ClientAlgorithmName.SCAFFOLD;
    return new ClientSettings(algorithm, overrides.apply(settings), 0);
  }

  /** {@link ClientRound#run} or a personalisation mode's round. */
  @FunctionalInterface
  private interface RoundRunner {
    ClientRound.Result run(
        Model model,
        int cluster,
        Dataset data,
        ClientSettings settings,
        SiteState state,
        java.util.function.Consumer<String> log,
        LocalTrainer.Progress progress);
  }

  /** The site's state for this store: STATE_DIR/<hash of store URI>/<site>/. */
  SiteState siteState() {
    return SiteState.open(stateDir, store.root().toString(), site);
  }

  private void log(String format, Object... args) {
    if (out != null) {
      out.println(String.format(format, args));
    }
  }
}
