package fedlake.core.round;

import fedlake.core.cluster.ClusterPlan;
import fedlake.core.cluster.ClusterStore;
import fedlake.core.cluster.RandomProjection;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.privacy.CentralDp;
import fedlake.core.privacy.PrivacyLedger;
import fedlake.core.privacy.PrivateStrategy;
import fedlake.core.spec.Specs;
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.core.strategy.Aggregate;
import fedlake.core.strategy.Fold;
import fedlake.core.strategy.RobustSettings;
import fedlake.core.strategy.RobustStrategy;
import fedlake.core.strategy.Strategies;
import fedlake.core.strategy.Strategy;
import fedlake.core.strategy.StrategySettings;
import fedlake.core.strategy.UpdateOutcome;
import fedlake.core.synth.StatisticsStore;
import fedlake.schema.FederationSpec;
import fedlake.schema.Model;
import fedlake.schema.RobustnessSpec;
import fedlake.schema.RoundHistory;
import fedlake.schema.UpdateAudit;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Aggregates the current round under the federation spec: reads every update file once (check,
 * fold, statistics in one scan; {@link UpdateScan}), keeps one valid update per site (its latest;
 * {@link UpdateSelection}), finishes each cluster with the spec's strategy, then writes the next
 * round's models (with the strategy's server state), the audit and the history, and moves the model
 * pointer last. Rerunning after a crash rewrites the same files with the same content; rerunning
 * after success does nothing.
 *
 * <p>One committer per round: before writing anything the job claims the round ({@link
 * RoundClaim}); a job that finds the round claimed by a live job, or loses the claim, returns
 * {@link RoundResult.Status#LOST_RACE} having written nothing. A dead job's claim is taken over and
 * its listed files aggregated again, into the same model versions. Models are written once, never
 * replaced; the pointer is re-read (and the claim and model files checked) just before it moves.
 */
public final class RoundJob {
  /** Largest update file read when the store has no spec (stores made before specs). */
  public static final long MAX_UPDATE_BYTES_DEFAULT = 256L << 20;

  private final Store store;
  private Strategy strategy;
  private UpdateScanner scanner;
  private Double maxAbsValue;
  private Integer expectedRound;
  private LongSupplier clock = System::currentTimeMillis;
  private LongSupplier wallClock = System::currentTimeMillis;
  private Calibrator calibrator;
  private RobustSettings robust;
  private boolean profiles;
  private String dpSecret = System.getenv(CentralDp.SECRET_ENV);

  public RoundJob(Store store) {
    this.store = store;
    this.scanner = new LocalScanner(store.fileSystem());
  }

  /** Overrides the spec's strategy (with its default parameters); for benchmarks and tests. */
  public RoundJob strategy(Strategy value) {
    this.strategy = Objects.requireNonNull(value, "strategy");
    return this;
  }

  /**
   * Overrides the spec's robust aggregation (clipping, weight cap, rule); for benchmarks, tests.
   */
  public RoundJob robust(RobustSettings value) {
    this.robust = Objects.requireNonNull(value, "robust");
    return this;
  }

  public RoundJob scanner(UpdateScanner value) {
    this.scanner = Objects.requireNonNull(value, "scanner");
    return this;
  }

  /**
   * The server secret of central differential privacy (default: the {@value CentralDp#SECRET_ENV}
   * environment variable); for simulations and tests.
   */
  public RoundJob dpSecret(String value) {
    this.dpSecret = value;
    return this;
  }

  /** Overrides the spec's largest accepted absolute parameter value. */
  public RoundJob maxAbsValue(double value) {
    if (!(value > 0)) {
      throw new IllegalArgumentException("max-abs-value must be positive, got " + value);
    }
    this.maxAbsValue = value;
    return this;
  }

  /**
   * Also builds the profile of every accepted update in the round's scan and writes them to {@code
   * ROOT/profiles/round=R/} (docs/clustering.md): a clustered federation then runs {@code round}
   * and {@code cluster} and reads each update once a round.
   */
  public RoundJob profiles(boolean value) {
    this.profiles = value;
    return this;
  }

  /** Aggregate this round only: a finished round is a no-op, a future round an error. */
  public RoundJob round(Integer value) {
    this.expectedRound = value;
    return this;
  }

  /**
   * Re-fits each cluster's aggregated parameters before publishing (null: none); recorded in the
   * history.
   */
  public RoundJob calibration(Calibrator value) {
    this.calibrator = value;
    return this;
  }

  /** The clock of the job's timings and of the models' createdTime. */
  public RoundJob clock(LongSupplier value) {
    this.clock = value;
    return this;
  }

  /**
   * The clock compared with other machines' clocks: claim times and the bounds of an update's
   * createdTime (default the system clock); for tests.
   */
  RoundJob wallClock(LongSupplier value) {
    this.wallClock = Objects.requireNonNull(value, "wallClock");
    return this;
  }

  /**
   * Points of {@link #execute} where a test can hold a job (a latch) to force an interleaving with
   * another job; see {@link #checkpoints}.
   */
  enum Checkpoint {
    /** The update files to aggregate are known; nothing is claimed or written yet. */
    LISTED,
    /** The round is claimed; nothing else is written yet. */
    CLAIMED,
    /** The next models are written; audit, history and pointer are not. */
    MODELS_WRITTEN,
    /** Audit and history are written; the pointer has not moved. */
    HISTORY_WRITTEN
  }

  /** Called at each {@link Checkpoint} of a job; for tests. */
  @FunctionalInterface
  interface Checkpoints {
    void reached(Checkpoint point, int round);
  }

  private Checkpoints checkpoints = (point, round) -> {};

  /** Test seam: {@code value} is called at every checkpoint of this job. */
  RoundJob checkpoints(Checkpoints value) {
    this.checkpoints = Objects.requireNonNull(value, "checkpoints");
    return this;
  }

  public RoundResult execute() {
    FederationSpec secure = Specs.current(store).orElse(null);
    if (fedlake.core.secagg.SecAggSettings.on(secure)) { // the round sees only a masked sum
      return fedlake.core.secagg.SecureRound.run(
          store, secure, expectedRound, calibrator != null, clock, wallClock);
    }
    long started = clock.getAsLong();
    Latest latest = store.requireLatest();
    int round = latest.round();
    RoundResult done = RoundResult.unlessCurrent(expectedRound, round);
    if (done != null) {
      return done;
    }
    Map<Integer, Model> bases = new TreeMap<>();
    latest
        .versions()
        .forEach(
            (cluster, version) -> {
              Model model = store.readModel(round, cluster);
              if (!model.getVersion().equals(version)) {
                throw new IllegalStateException(
                    "Model pointer names "
                        + version
                        + " for cluster "
                        + cluster
                        + " but "
                        + store.modelFile(round, cluster)
                        + " holds "
                        + model.getVersion());
              }
              bases.put(cluster, model);
            });
    FederationSpec spec = Specs.current(store).orElse(null);
    LateUpdates.Earlier earlier = LateUpdates.of(spec).earlier(store, round);
    CentralDp dp = CentralDp.of(spec, store.registeredSites().map(Set::size).orElse(0), dpSecret);
    PrivacyLedger ledger = dp == null ? null : PrivacyLedger.open(store, round, dp);
    RobustnessSpec robustness =
        spec != null ? spec.getRobustness() : RobustnessSpec.newBuilder().build();

    // ---- one committer per round: claim it before writing anything ----
    String job = UUID.randomUUID().toString();
    Optional<RoundClaim> held = RoundClaim.current(store, round);
    List<UpdateFile> files;
    int generation;
    String takeover = null;
    if (held.isPresent()) {
      RoundClaim claim = held.get();
      if (claim.live(wallClock.getAsLong(), robustness.getClaimTimeoutMinutes() * 60_000L)) {
        return lost(
            round,
            "Round "
                + round
                + ": lost the race: "
                + claim.holder()
                + " is aggregating it ("
                + claim.file(store)
                + "); this job wrote nothing");
      }
      generation = claim.generation() + 1;
      if (claim.bases().equals(latest.versions())) {
        files = claim.files(); // finish what the dead holder decided: the same files, same models
        takeover = "took over the claim of " + claim.holder() + ", which ended without publishing";
      } else {
        files = listRound(round, earlier);
      }
    } else {
      generation = 1;
      files = listRound(round, earlier);
    }
    checkpoints.reached(Checkpoint.LISTED, round);
    RoundClaim mine =
        RoundClaim.mine(round, generation, job, wallClock.getAsLong(), latest.versions(), files);
    if (!mine.create(store)) {
      RoundClaim winner = RoundClaim.current(store, round).orElse(null);
      return lost(
          round,
          "Round "
              + round
              + ": lost the race: "
              + (winner == null ? "another job" : winner.holder())
              + " claimed it first ("
              + mine.file(store)
              + " exists); this job wrote nothing");
    }
    try {
      Latest now = store.requireLatest();
      if (!now.equals(latest)) {
        deleteQuietly(mine.file(store));
        return lost(
            round,
            "Round "
                + round
                + ": lost the race: another job published it while this one was listing (the"
                + " pointer now names round "
                + now.round()
                + "); this job wrote nothing");
      }
      checkpoints.reached(Checkpoint.CLAIMED, round);
      return aggregate(
          started,
          latest,
          bases,
          spec,
          ledger,
          earlier,
          robustness,
          files,
          mine,
          takeover,
          removeTemporaries(round));
    } finally {
      RoundClaim.ended(job);
    }
  }

  /** Everything in the round's folder, and the late files still pending when they count. */
  private List<UpdateFile> listRound(int round, LateUpdates.Earlier earlier) {
    List<UpdateFile> files = new ArrayList<>();
    for (org.apache.hadoop.fs.FileStatus s : earlier.pending()) {
      files.add(new UpdateFile(s.getPath().toString(), s.isDirectory() ? -1 : s.getLen()));
    }
    for (Store.Listed entry : store.listRoundFolder(round)) {
      files.add(new UpdateFile(entry.uri(), entry.bytes()));
    }
    return files;
  }

  /**
   * Removes what crashed round jobs left: temporary files in the folders only the claim holder
   * writes (the sites' folders under updates/ are theirs; this round's claims folder is where
   * losing jobs write their claims, so a crashed claim's temporary file goes with the next round).
   */
  private int removeTemporaries(int round) {
    List<org.apache.hadoop.fs.Path> dirs = new ArrayList<>();
    if (round > 0) {
      dirs.add(RoundClaim.folder(store, round - 1));
    }
    return store
            .removeTemporaries(
                List.of(
                    store.modelsDir(),
                    store.modelFile(round + 1, 0).getParent(),
                    store.auditFile(round).getParent(),
                    store.historyFile(round).getParent(),
                    store.path("statistics"),
                    store.path("calibration")))
            .size()
        + store.removeTemporaries(dirs).size();
  }

  private void deleteQuietly(org.apache.hadoop.fs.Path file) {
    try {
      store.fileSystem().delete(file, false);
    } catch (IOException e) {
      // a stale claim of a job that stopped is taken over by the next run
    }
  }

  /**
   * Puts each listed entry into {@code files} (read as an update) or {@code unread} (audited with
   * why it is not one). Hot loops such as this one live in small methods of their own: a loop
   * inside a method that runs once a round is compiled on the stack (OSR), and for a method the
   * size of {@link #aggregate} that compile cost the JIT most of a second of CPU on the round's 2
   * cores.
   */
  private static void sortListed(
      List<UpdateFile> listed, List<UpdateFile> files, List<UpdateCheck> unread) {
    for (UpdateFile file : listed) {
      UpdateCheck not = notAnUpdate(file);
      if (not == null) {
        files.add(file);
      } else {
        unread.add(not);
      }
    }
  }

  /** Why a listed entry is not an update file, as its audit row; null when it may be one. */
  private static UpdateCheck notAnUpdate(UpdateFile file) {
    String name = file.uri().substring(file.uri().lastIndexOf('/') + 1);
    if (file.bytes() < 0) {
      return UpdateCheck.unreadable(
          file.uri(), 0, "not an update file: a folder (uploads are SITE--ID.parquet files)");
    }
    if (name.startsWith(".") || name.startsWith("_")) {
      return UpdateCheck.unreadable(
          file.uri(),
          file.bytes(),
          "not an update file: a hidden name (starting with '.' or '_'), which readers"
              + " skip; site ids cannot start so");
    }
    if (!name.endsWith(".parquet")) {
      return UpdateCheck.unreadable(
          file.uri(),
          file.bytes(),
          "not an update file: the name does not end in '.parquet' (uploads are"
              + " SITE--ID.parquet)");
    }
    return null;
  }

  private static RoundResult lost(int round, String message) {
    return new RoundResult(
        round, RoundResult.Status.LOST_RACE, message, List.of(), List.of(), List.of());
  }

  private RoundResult aggregate(
      long started,
      Latest latest,
      Map<Integer, Model> bases,
      FederationSpec spec,
      PrivacyLedger ledger,
      LateUpdates.Earlier earlier,
      RobustnessSpec robustness,
      List<UpdateFile> listed,
      RoundClaim claim,
      String takeover,
      int removedTemporaries) {
    int round = latest.round();
    Strategy strategy =
        this.strategy != null
            ? this.strategy
            : spec != null
                ? Specs.strategy(spec)
                : Strategies.implied(bases.values().iterator().next());
    StrategySettings settings =
        this.strategy == null && spec != null
            ? Specs.settings(spec)
            : StrategySettings.of(strategy, Map.of());
    int specVersion = spec == null ? 0 : spec.getSpecVersion();
    strategy =
        RobustStrategy.wrap(
            strategy,
            robust != null
                ? robust
                : spec != null ? RobustSettings.of(spec.getRobustness()) : RobustSettings.NONE);
    CentralDp dp = ledger == null ? null : ledger.dp();
    strategy = PrivateStrategy.wrap(strategy, dp);
    double maxAbs =
        maxAbsValue != null
            ? maxAbsValue
            : spec != null ? robustness.getMaxAbsValue() : UpdateValidator.MAX_ABS_VALUE_DEFAULT;
    long maxBytes = spec != null ? robustness.getMaxUpdateBytes() : MAX_UPDATE_BYTES_DEFAULT;
    RoundReadiness policy = RoundReadiness.of(spec);
    int minSites = policy.minSites();
    double controlBound = robustness.getControlDeltaBound();

    ClusterPlan plan = ClusterPlan.forRound(store, round, bases.keySet());
    SortedMap<Integer, Model> targets = plan.bases(bases);
    UpdateValidator validator =
        new UpdateValidator(round, bases, store.registeredSites().orElse(null), maxAbs)
            .withAssignments(plan.training(), plan.trainingFile())
            .withAggregationBases(targets)
            .withControlDeltaBound(controlBound)
            .withTimeBounds(wallClock.getAsLong(), robustness.getMaxClockSkewSeconds() * 1000L);
    validator.withSampling(dp);
    LateUpdates late = LateUpdates.of(spec);
    if (late.buffered()) {
      validator
          .withLateUpdates(late, late.bases(store, round, bases.keySet()))
          .withAggregatedIds(earlier.aggregatedIds());
    }
    if (robustness.getRequireSignatures()) {
      validator.withSignatures(fedlake.core.identity.SiteKeys.load(store));
    }
    List<UpdateFile> files = new ArrayList<>();
    List<UpdateCheck> unread = new ArrayList<>();
    sortListed(listed, files, unread);
    RoundRules rules =
        new RoundRules(validator, strategy, settings, plan.targets(), calibrator != null, maxBytes);
    if (profiles) {
      rules =
          rules.withProfiles(
              RoundRules.Profiles.of(
                  store,
                  bases.values(),
                  new RandomProjection(
                      RandomProjection.DIMENSION_DEFAULT, RandomProjection.SEED_DEFAULT),
                  wallClock.getAsLong()));
    }
    ScanResult scan = UpdateSelection.run(files, rules, scanner);
    List<UpdateCheck> checks = new ArrayList<>(scan.checks());
    checks.addAll(unread);
    checks.sort(Comparator.comparing(UpdateCheck::file));
    List<UpdateCheck> accepted = checks.stream().filter(UpdateCheck::accepted).toList();
    boolean enough =
        policy.decide(accepted.size(), RoundReadiness.opened(bases.values()), started).ready();

    // a server control variate beyond the bound cannot come from honest sites: reset it
    Map<Integer, String> notes = new HashMap<>();
    for (Model base : targets.values()) {
      String poisoned = poisonedControl(base, controlBound, maxAbs);
      if (poisoned != null) {
        notes.put(base.getCluster(), poisoned);
      }
    }
    boolean publish = enough || !notes.isEmpty();
    Map<Integer, CalibrationStatistics> statistics =
        calibrator == null || !enough
            ? Map.of()
            : CalibrationStatistics.settle(
                new StatisticsStore(store),
                store.fileSystem(),
                rules,
                round,
                targets,
                accepted,
                scan.statistics());
    long checked = clock.getAsLong();
    long created = clock.getAsLong();
    List<Model> next = new ArrayList<>();
    Map<Integer, Model> nextByCluster = new HashMap<>();
    Map<Integer, Calibrator.Outcome> calibrations = new HashMap<>();
    Map<Integer, PriorCorrection.Applied> priors = new HashMap<>();
    double priorDamping = dp != null ? 0 : priorDamping(spec);
    Map<String, UpdateOutcome> outcomes = new HashMap<>(); // by site: one accepted update a site
    if (publish) {
      for (Model base : targets.values()) {
        Fold fold = enough ? scan.folds().get(base.getCluster()) : null;
        boolean reset = notes.containsKey(base.getCluster());
        Model model;
        if (fold == null || fold.count() == 0) {
          model = Models.carry(base, round + 1, specVersion, created);
          if (reset) {
            model.setControlVariate(
                FloatArrays.asList(new float[model.getControlVariate().size()]));
            model.setVersion("");
            model.setVersion(Models.version(model));
          }
        } else {
          Aggregate aggregate = strategy.finish(base, fold, settings);
          aggregate.outcomes().forEach(o -> outcomes.put(o.site(), o));
          float[] parameters = aggregate.parameters();
          if (calibrator != null) {
            Calibrator.Outcome outcome =
                calibrator.calibrate(round, base, parameters, statistics.get(base.getCluster()));
            calibrations.put(base.getCluster(), outcome);
            parameters = outcome.parameters();
          }
          PriorCorrection prior = scan.priors().get(base.getCluster());
          if (priorDamping > 0
              && prior != null
              && Models.HEAD.equals(base.getKind())
              && base.getBias().size() == base.getClassCount()) {
            priors.put(
                base.getCluster(),
                prior.applyTo(parameters, base.getWeights().size(), priorDamping));
          }
          float[] control = aggregate.controlVariate();
          if (control != null) {
            control =
                reset
                    ? new float[control.length]
                    : clip(control, UpdateValidator.controlLimit(controlBound, base, maxAbs));
          }
          model =
              Models.derive(
                  base,
                  new Aggregate(parameters, control, aggregate.serverState()),
                  round + 1,
                  strategy.name(),
                  fold.count(),
                  specVersion,
                  created);
        }
        next.add(model);
        nextByCluster.put(base.getCluster(), model);
      }
    }
    long aggregated = clock.getAsLong();

    List<UpdateAudit> audit = audit(round, checks, outcomes, late, aggregated);
    try {
      if (profiles && enough) { // before the models: a rerun after a crash writes them again
        ClusterStore.writeProfiles(
            store,
            round,
            accepted.stream()
                .map(c -> scan.profiles().get(c.file()))
                .filter(Objects::nonNull)
                .toList());
      }
      for (Model model : next) {
        store.writeModelOnce(model); // a rerun's same version is kept as it is
      }
      checkpoints.reached(Checkpoint.MODELS_WRITTEN, round);
      store.writeAudit(round, audit);
      long written = clock.getAsLong();
      List<RoundHistory> history = new ArrayList<>();
      for (Model base : targets.values()) {
        RoundHistory row =
            withCalibration(
                historyRow(
                    strategy,
                    specVersion,
                    minSites,
                    round,
                    base,
                    nextByCluster.get(base.getCluster()),
                    checks,
                    started,
                    checked - started,
                    aggregated - checked,
                    written - aggregated,
                    written - started),
                calibrations.get(base.getCluster()));
        PriorCorrection.Applied prior = priors.get(base.getCluster());
        if (prior != null) {
          row.setPriorCorrectionMax(prior.largestChange());
          row.setPriorCorrectionRows(prior.rows());
          row.setMeanPredictionMax(prior.meanPredictionMax());
        }
        if (ledger != null) {
          ledger.record(row);
        }
        String note = notes.get(base.getCluster());
        if (note != null) {
          Model carried = nextByCluster.get(base.getCluster());
          if (!enough) { // published only to reset the control variate: nothing was aggregated
            row.setMessage(
                "Carried "
                    + base.getVersion()
                    + " forward as "
                    + carried.getVersion()
                    + " without aggregating ("
                    + accepted.size()
                    + " valid update(s), the spec asks for at least "
                    + minSites
                    + ")");
            row.setParticipants(0);
            row.setParticipantSites(List.of());
            row.setTotalExamples(0L);
            row.setWeightedLocalLoss(null);
            row.setWeightedLocalAccuracy(null);
            row.setUpdateNormMin(null);
            row.setUpdateNormMean(null);
            row.setUpdateNormMax(null);
          }
          row.setMessage(row.getMessage() + "; " + note);
        }
        history.add(row);
      }
      Evaluation.record(store, history, nextByCluster, checks); // docs/report.md
      store.writeHistory(round, history);
      checkpoints.reached(Checkpoint.HISTORY_WRITTEN, round);
      String cleaned =
          (takeover == null ? "" : "; " + takeover)
              + (removedTemporaries == 0
                  ? ""
                  : "; removed "
                      + removedTemporaries
                      + " temporary file(s) a crashed run left behind");
      if (next.isEmpty()) {
        // nothing was committed: release the round, so that the next run lists it afresh
        RoundClaim.release(store, round);
        return new RoundResult(
            round,
            RoundResult.Status.NO_VALID_UPDATES,
            history.get(0).getMessage() + cleaned,
            List.of(),
            history,
            audit);
      }
      TreeMap<Integer, String> versions = new TreeMap<>();
      next.forEach(m -> versions.put(m.getCluster(), m.getVersion()));
      // re-read the pointer and the claims just before moving it: a job that took this claim over
      // (this one looked dead) or a pointer that moved means another job publishes this round
      // (on S3 the claim is check-then-put: of two jobs that claimed at the same moment the
      // later upload holds the claim object, and the other one learns it here)
      Latest now = store.requireLatest();
      RoundClaim current = RoundClaim.current(store, round).orElse(claim);
      String lostTo = null;
      if (!now.equals(latest)) {
        lostTo = "the pointer names round " + now.round() + " now";
      } else if (current.generation() != claim.generation() || !current.job().equals(claim.job())) {
        lostTo = current.holder() + " holds the claim";
      } else {
        for (Model model : next) {
          String held = store.readModelVersion(model.getRound(), model.getCluster());
          if (!held.equals(model.getVersion())) {
            lostTo =
                store.modelFile(model.getRound(), model.getCluster())
                    + " holds "
                    + held
                    + ", another job's model";
          }
        }
      }
      if (lostTo != null) {
        return lost(
            round,
            "Round "
                + round
                + ": lost the race after aggregating: "
                + lostTo
                + "; the pointer was left as it is");
      }
      store.movePointer(new Latest(round + 1, versions));
      String message =
          "Round "
              + round
              + ": published "
              + versions.values()
              + " from "
              + accepted.size()
              + " update(s) with "
              + strategy.name()
              + ", rejected "
              + (checks.size() - accepted.size())
              + cleaned;
      return new RoundResult(round, RoundResult.Status.PUBLISHED, message, next, history, audit);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot publish round " + round + " to " + store.root() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Why {@code base}'s server control variate cannot be honest (a value beyond the control bound),
   * or null.
   */
  /**
   * The spec's prior-correction damping for sites without labels (docs/unlabeled.md); 0 without a
   * spec or without {@code client.unlabeled}.
   */
  private static double priorDamping(FederationSpec spec) {
    if (spec == null || spec.getClient() == null || spec.getClient().getUnlabeled() == null) {
      return 0;
    }
    double d = spec.getClient().getUnlabeled().getPriorCorrection();
    return Double.isFinite(d) && d > 0 ? Math.min(d, 1) : 0;
  }

  private static String poisonedControl(Model base, double factor, double maxAbs) {
    List<Float> control = base.getControlVariate();
    if (control == null || control.isEmpty()) {
      return null;
    }
    double limit = UpdateValidator.controlLimit(factor, base, maxAbs);
    float largest = 0;
    for (Float v : control) {
      if (!Float.isFinite(v) || Math.abs(v) > Math.abs(largest)) {
        largest = v;
        if (!Float.isFinite(v)) {
          break;
        }
      }
    }
    if (Float.isFinite(largest) && Math.abs(largest) <= limit) {
      return null;
    }
    return "the server control variate of "
        + base.getVersion()
        + " holds "
        + largest
        + ", beyond "
        + limit
        + " (robustness.controlDeltaBound): reset to zero";
  }

  private static float[] clip(float[] values, double limit) {
    float bound = (float) limit;
    float[] out = values.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] = Math.max(-bound, Math.min(bound, out[i]));
    }
    return out;
  }

  private static List<UpdateAudit> audit(
      int round,
      List<UpdateCheck> checks,
      Map<String, UpdateOutcome> outcomes,
      LateUpdates late,
      long now) {
    List<UpdateAudit> rows = new ArrayList<>(checks.size());
    for (UpdateCheck c : checks) {
      rows.add(auditRow(round, c, outcomes, late, now));
    }
    return rows;
  }

  private static UpdateAudit auditRow(
      int round, UpdateCheck c, Map<String, UpdateOutcome> outcomes, LateUpdates late, long now) {
    UpdateOutcome outcome = c.accepted() ? outcomes.get(c.site()) : null;
    AuditStatus status =
        !c.accepted()
            ? AuditStatus.REJECTED
            : outcome == null
                ? AuditStatus.ACCEPTED
                : switch (outcome.action()) {
                  case KEPT -> AuditStatus.ACCEPTED;
                  case CLIPPED -> AuditStatus.CLIPPED;
                  case TRIMMED -> AuditStatus.TRIMMED;
                  case EXCLUDED -> AuditStatus.EXCLUDED;
                };
    return UpdateAudit.newBuilder()
        .setRound(round)
        .setFile(c.file())
        .setFileBytes(c.fileBytes())
        .setStatus(status.id())
        .setReason(
            outcome != null && outcome.reason() != null
                ? outcome.reason()
                : c.accepted() && c.staleness() > 0 ? lateNote(round, c, late) : c.reason())
        .setStaleness(c.accepted() ? c.staleness() : null)
        .setSite(c.site())
        .setUpdateId(c.updateId())
        .setCluster(c.accepted() ? c.cluster() : null)
        .setNumExamples(c.updateId() == null ? null : c.numExamples())
        .setUpdateNorm(c.updateNorm())
        .setEncoding(c.updateId() == null ? null : c.encoding() == null ? "fp32" : c.encoding())
        .setDownloadBytes(c.cost().downloadBytes())
        .setTrainCpuMillis(c.cost().trainCpuMillis())
        .setPeakMemoryBytes(c.cost().peakMemoryBytes())
        .setCheckedTime(Instant.ofEpochMilli(now))
        .build();
  }

  private static String lateNote(int round, UpdateCheck c, LateUpdates late) {
    return "late by "
        + c.staleness()
        + " round(s): trained from round "
        + (round - c.staleness())
        + "'s model, its change added to round "
        + round
        + "'s; weight "
        + c.numExamples()
        + " discounted to "
        + late.weight(c.numExamples(), c.staleness());
  }

  private static RoundHistory historyRow(
      Strategy strategy,
      int specVersion,
      int minSites,
      int round,
      Model base,
      Model published,
      List<UpdateCheck> checks,
      long started,
      long validateMillis,
      long aggregateMillis,
      long publishMillis,
      long totalMillis) {
    int cluster = base.getCluster();
    List<UpdateCheck> mine =
        checks.stream()
            .filter(c -> c.accepted() && c.cluster() == cluster)
            .sorted(Comparator.comparing(UpdateCheck::file))
            .toList();
    long rejected = checks.stream().filter(c -> !c.accepted()).count();
    long examples = mine.stream().mapToLong(UpdateCheck::numExamples).sum();
    Double loss = null;
    Double accuracy = null;
    Double normMin = null;
    Double normMean = null;
    Double normMax = null;
    if (!mine.isEmpty()) {
      double[] sums = sums(mine);
      loss = sums[0] / examples;
      accuracy = sums[1] / examples;
      normMean = sums[2] / mine.size();
      normMin = sums[3];
      normMax = sums[4];
    }
    String message;
    String status;
    long acceptedAll = checks.stream().filter(UpdateCheck::accepted).count();
    if (published == null) {
      status = HistoryStatus.NO_VALID_UPDATES.id();
      message =
          checks.isEmpty()
              ? "No update files for round " + round + "; nothing published"
              : acceptedAll > 0
                  ? "Only "
                      + acceptedAll
                      + " valid update(s) for round "
                      + round
                      + ", the spec asks for at least "
                      + minSites
                      + "; nothing published"
                  : "No valid update among "
                      + checks.size()
                      + " file(s) for round "
                      + round
                      + "; nothing published";
    } else {
      status = HistoryStatus.PUBLISHED.id();
      message =
          mine.isEmpty()
              ? "No update for cluster "
                  + cluster
                  + "; carried its model forward as "
                  + published.getVersion()
              : "Aggregated "
                  + mine.size()
                  + " update(s) with "
                  + strategy.name()
                  + (strategy instanceof RobustStrategy r
                      ? " (" + r.robust().describe() + ", see audit)"
                      : "")
                  + " into "
                  + published.getVersion();
    }
    return RoundHistory.newBuilder()
        .setRound(round)
        .setCluster(cluster)
        .setStatus(status)
        .setMessage(
            message + (rejected > 0 ? "; rejected " + rejected + " file(s), see audit" : ""))
        .setStrategy(strategy.name())
        .setSpecVersion(specVersion)
        .setBaseModelVersion(base.getVersion())
        .setPublishedModelVersion(published == null ? null : published.getVersion())
        .setParticipants(mine.size())
        .setLateParticipants((int) mine.stream().filter(c -> c.staleness() > 0).count())
        .setRejected((int) rejected)
        .setParticipantSites(
            mine.stream().map(UpdateCheck::site).sorted().collect(Collectors.toList()))
        .setTotalExamples(examples)
        .setWeightedLocalLoss(loss)
        .setWeightedLocalAccuracy(accuracy)
        .setUpdateNormMin(normMin)
        .setUpdateNormMean(normMean)
        .setUpdateNormMax(normMax)
        .setModelChangeNorm(
            published == null
                ? null
                : distance(Models.parameters(base), Models.parameters(published)))
        .setProbeAccuracy(null)
        .setCalibrated(false)
        .setStartedTime(Instant.ofEpochMilli(started))
        .setValidateMillis(validateMillis)
        .setAggregateMillis(aggregateMillis)
        .setPublishMillis(publishMillis)
        .setTotalMillis(totalMillis)
        .setUploadBytes(
            mine.isEmpty() ? null : mine.stream().mapToLong(UpdateCheck::fileBytes).sum())
        .setDownloadBytes(sum(mine, SiteCost::downloadBytes))
        .setSiteCpuMillis(sum(mine, SiteCost::trainCpuMillis))
        .setPseudoLabelAccuracy(pseudoLabelAccuracy(mine))
        .setSitesBelowZeroShot(
            mine.stream().anyMatch(c -> c.labelAudit().auditZeroShotAccuracy() != null)
                ? (int) mine.stream().filter(c -> c.labelAudit().belowZeroShot()).count()
                : null)
        .setSitePeakMemoryBytes(
            mine.stream()
                .map(c -> c.cost().peakMemoryBytes())
                .filter(java.util.Objects::nonNull)
                .max(Long::compare)
                .orElse(null))
        .build();
  }

  /**
   * The updates' local loss and accuracy weighted by examples, their norms' sum, smallest and
   * largest (in that order); a method of its own for the reason {@link #sortListed} is.
   */
  private static double[] sums(List<UpdateCheck> checks) {
    double loss = 0;
    double accuracy = 0;
    double norms = 0;
    double smallest = Double.POSITIVE_INFINITY;
    double largest = 0;
    for (UpdateCheck c : checks) {
      loss += c.localLoss() * c.numExamples();
      accuracy += c.localAccuracy() * c.numExamples();
      norms += c.updateNorm();
      smallest = Math.min(smallest, c.updateNorm());
      largest = Math.max(largest, c.updateNorm());
    }
    return new double[] {loss, accuracy, norms, smallest, largest};
  }

  /**
   * The pseudo-label accuracy of the updates that report one, weighted by their examples; null when
   * none does.
   */
  private static Double pseudoLabelAccuracy(List<UpdateCheck> checks) {
    double sum = 0;
    long examples = 0;
    for (UpdateCheck c : checks) {
      Double accuracy = c.labelAudit().pseudoLabelAccuracy();
      if (accuracy != null) {
        sum += accuracy * c.numExamples();
        examples += c.numExamples();
      }
    }
    return examples == 0 ? null : sum / examples;
  }

  /** The sum of a cost the updates report, over those that report it; null when none does. */
  private static Long sum(
      List<UpdateCheck> checks, java.util.function.Function<SiteCost, Long> cost) {
    List<Long> known =
        checks.stream().map(c -> cost.apply(c.cost())).filter(java.util.Objects::nonNull).toList();
    return known.isEmpty() ? null : known.stream().mapToLong(Long::longValue).sum();
  }

  private static RoundHistory withCalibration(RoundHistory row, Calibrator.Outcome outcome) {
    if (outcome != null) {
      row.setCalibrated(outcome.calibrated());
      row.setProbeAccuracy(outcome.probeAfter());
      row.setProbeAccuracyBeforeCalibration(outcome.probeBefore());
      row.setCalibrationMessage(outcome.message());
    }
    return row;
  }

  private static double distance(float[] a, float[] b) {
    double squares = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (double) a[i] - b[i];
      squares += d * d;
    }
    return Math.sqrt(squares);
  }
}
