package fedlake.core.round;

import fedlake.core.cluster.ClusterPlan;
import fedlake.core.model.Models;
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
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Aggregates the current round under the federation spec: reads every update file once (check,
 * fold, statistics in one scan; {@link UpdateScan}), keeps one valid update per site (its latest;
 * {@link UpdateSelection}), finishes each cluster with the spec's strategy, then writes the next
 * round's models (with the strategy's server state), the audit and the history, and moves the model
 * pointer last. Rerunning after a crash rewrites the same files with the same content; rerunning
 * after success does nothing.
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
  private Calibrator calibrator;
  private RobustSettings robust;

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

  /** Overrides the spec's largest accepted absolute parameter value. */
  public RoundJob maxAbsValue(double value) {
    if (!(value > 0)) {
      throw new IllegalArgumentException("max-abs-value must be positive, got " + value);
    }
    this.maxAbsValue = value;
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

  public RoundJob clock(LongSupplier value) {
    this.clock = value;
    return this;
  }

  public RoundResult execute() {
    long started = clock.getAsLong();
    Latest latest = store.requireLatest();
    int round = latest.round();
    if (expectedRound != null && expectedRound != round) {
      if (expectedRound < round) {
        return new RoundResult(
            expectedRound,
            RoundResult.Status.ALREADY_DONE,
            "Round "
                + expectedRound
                + " was aggregated already (current round is "
                + round
                + "); nothing to do",
            List.of(),
            List.of(),
            List.of());
      }
      throw new IllegalStateException(
          "Cannot aggregate round " + expectedRound + ": the current round is " + round);
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
    double maxAbs =
        maxAbsValue != null
            ? maxAbsValue
            : spec != null
                ? spec.getRobustness().getMaxAbsValue()
                : UpdateValidator.MAX_ABS_VALUE_DEFAULT;
    long maxBytes =
        spec != null ? spec.getRobustness().getMaxUpdateBytes() : MAX_UPDATE_BYTES_DEFAULT;
    int minSites = spec != null ? spec.getRoundPolicy().getMinSites() : 1;

    ClusterPlan plan = ClusterPlan.forRound(store, round, bases.keySet());
    SortedMap<Integer, Model> targets = plan.bases(bases);
    UpdateValidator validator =
        new UpdateValidator(round, bases, store.registeredSites().orElse(null), maxAbs)
            .withAssignments(plan.training(), plan.trainingFile())
            .withAggregationBases(targets);
    List<UpdateFile> files =
        store.listUpdates(round).stream()
            .map(s -> new UpdateFile(s.getPath().toString(), s.getLen()))
            .toList();
    RoundRules rules =
        new RoundRules(validator, strategy, settings, plan.targets(), calibrator != null, maxBytes);
    ScanResult scan = UpdateSelection.run(files, rules, scanner);
    List<UpdateCheck> checks = scan.checks();
    List<UpdateCheck> accepted = checks.stream().filter(UpdateCheck::accepted).toList();
    boolean enough = !accepted.isEmpty() && accepted.size() >= minSites;
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
    Map<String, UpdateOutcome> outcomes = new HashMap<>(); // by site: one accepted update a site
    if (enough) {
      for (Model base : targets.values()) {
        Fold fold = scan.folds().get(base.getCluster());
        Model model;
        if (fold == null || fold.count() == 0) {
          model = Models.carry(base, round + 1, specVersion, created);
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
          model =
              Models.derive(
                  base,
                  new Aggregate(parameters, aggregate.controlVariate(), aggregate.serverState()),
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

    List<UpdateAudit> audit = audit(round, checks, outcomes, aggregated);
    try {
      for (Model model : next) {
        store.writeModel(model);
      }
      store.writeAudit(round, audit);
      long written = clock.getAsLong();
      List<RoundHistory> history = new ArrayList<>();
      for (Model base : targets.values()) {
        history.add(
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
                calibrations.get(base.getCluster())));
      }
      store.writeHistory(round, history);
      if (next.isEmpty()) {
        return new RoundResult(
            round,
            RoundResult.Status.NO_VALID_UPDATES,
            history.get(0).getMessage(),
            List.of(),
            history,
            audit);
      }
      TreeMap<Integer, String> versions = new TreeMap<>();
      next.forEach(m -> versions.put(m.getCluster(), m.getVersion()));
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
              + (checks.size() - accepted.size());
      return new RoundResult(round, RoundResult.Status.PUBLISHED, message, next, history, audit);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot publish round " + round + " to " + store.root() + ": " + e.getMessage(), e);
    }
  }

  private static List<UpdateAudit> audit(
      int round, List<UpdateCheck> checks, Map<String, UpdateOutcome> outcomes, long now) {
    List<UpdateAudit> rows = new ArrayList<>();
    for (UpdateCheck c : checks) {
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
      rows.add(
          UpdateAudit.newBuilder()
              .setRound(round)
              .setFile(c.file())
              .setFileBytes(c.fileBytes())
              .setStatus(status.id())
              .setReason(outcome != null ? outcome.reason() : c.reason())
              .setSite(c.site())
              .setUpdateId(c.updateId())
              .setCluster(c.accepted() ? c.cluster() : null)
              .setNumExamples(c.site() == null ? null : c.numExamples())
              .setUpdateNorm(c.updateNorm())
              .setCheckedTime(Instant.ofEpochMilli(now))
              .build());
    }
    return rows;
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
      double lossSum = 0;
      double accuracySum = 0;
      double normSum = 0;
      normMin = Double.POSITIVE_INFINITY;
      normMax = 0.0;
      for (UpdateCheck c : mine) {
        lossSum += c.localLoss() * c.numExamples();
        accuracySum += c.localAccuracy() * c.numExamples();
        normSum += c.updateNorm();
        normMin = Math.min(normMin, c.updateNorm());
        normMax = Math.max(normMax, c.updateNorm());
      }
      loss = lossSum / examples;
      accuracy = accuracySum / examples;
      normMean = normSum / mine.size();
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
        .build();
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
