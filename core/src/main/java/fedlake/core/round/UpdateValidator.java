package fedlake.core.round;

import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.numeric.Distances;
import fedlake.core.store.Store;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks one update against the current round's models. Every check that fails yields a reason
 * naming the offending value; nothing here throws for bad content.
 */
public final class UpdateValidator implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final double MAX_ABS_VALUE_DEFAULT = 1.0e4;

  /** Default of robustness.controlDeltaBound: multiples of the logit scale. */
  public static final double CONTROL_DELTA_BOUND_DEFAULT = 4.0;

  /** Default of robustness.maxClockSkewSeconds. */
  public static final long MAX_CLOCK_SKEW_SECONDS_DEFAULT = 300;

  /**
   * Largest |mean|, variance or |covariance| entry of unit-length embeddings, with room for
   * rounding.
   */
  private static final double STATISTICS_BOUND = 1.001;

  private final int round;
  private final Map<Integer, Model> bases;
  private final Set<String> registeredSites;
  private final double maxAbsValue;
  private Map<String, Integer> assignments = Map.of();
  private String assignmentsFile;
  private Map<Integer, Model> aggregationBases;
  private double controlDeltaBound = CONTROL_DELTA_BOUND_DEFAULT;
  private boolean timeBounds;
  private long now;
  private long skewMillis;
  private Map<Integer, Map<Integer, Model>> lateBases = Map.of();
  private LateUpdates late = LateUpdates.IGNORED;
  private fedlake.core.privacy.CentralDp sampling;
  private fedlake.core.identity.SiteKeys keys;
  private Set<String> aggregatedIds = Set.of();

  /**
   * @param bases the current round's model of each cluster
   * @param registeredSites sites allowed to contribute, or null to accept any well-formed site id
   * @param maxAbsValue largest absolute parameter value accepted
   */
  public UpdateValidator(
      int round, Map<Integer, Model> bases, Set<String> registeredSites, double maxAbsValue) {
    if (!(maxAbsValue > 0)) {
      throw new IllegalArgumentException("max-abs-value must be positive, got " + maxAbsValue);
    }
    this.round = round;
    this.bases = Map.copyOf(bases);
    this.registeredSites = registeredSites == null ? null : Set.copyOf(registeredSites);
    this.maxAbsValue = maxAbsValue;
  }

  public Model base(int cluster) {
    return bases.get(cluster);
  }

  /** The round whose updates this validator checks. */
  public int round() {
    return round;
  }

  /**
   * Accepts late updates (buffered asynchronous aggregation): an update trained from the model of
   * an earlier round in {@code earlierBases} (round to cluster to model) is checked against that
   * model instead of the round's. Without this call an update of another round is rejected.
   */
  public UpdateValidator withLateUpdates(
      LateUpdates rule, Map<Integer, Map<Integer, Model>> earlierBases) {
    this.late = java.util.Objects.requireNonNull(rule, "rule");
    Map<Integer, Map<Integer, Model>> copy = new java.util.HashMap<>();
    earlierBases.forEach((r, models) -> copy.put(r, Map.copyOf(models)));
    this.lateBases = Map.copyOf(copy);
    return this;
  }

  /**
   * Rejects updates of sites that central differential privacy did not draw for the round (null:
   * every site may take part).
   */
  public UpdateValidator withSampling(fedlake.core.privacy.CentralDp dp) {
    this.sampling = dp;
    return this;
  }

  /**
   * Requires every update to be signed by a registered, unrevoked key of its site (null: signatures
   * are not checked).
   */
  public UpdateValidator withSignatures(fedlake.core.identity.SiteKeys value) {
    this.keys = value;
    return this;
  }

  /** Whether signatures are checked. */
  public boolean checksSignatures() {
    return keys != null;
  }

  /**
   * Update ids that earlier rounds aggregated: a file carrying one again is a replay (a copy of an
   * aggregated update uploaded anew, which a buffered round policy would otherwise take as late).
   */
  public UpdateValidator withAggregatedIds(Set<String> value) {
    this.aggregatedIds = Set.copyOf(value);
    return this;
  }

  /**
   * Why the update's signature does not hold (null when it does, or when signatures are not
   * checked).
   *
   * @param parameters the update's parameters in the first {@code count} values
   */
  public String signatureProblem(
      UpdateFacts facts,
      float[] parameters,
      int count,
      float[] controlDelta,
      String statisticsFingerprint) {
    if (keys == null) {
      return null;
    }
    byte[] digest =
        fedlake.core.identity.UpdateSignature.digest(
            facts, parameters, count, controlDelta, statisticsFingerprint);
    return keys.problem(facts.site(), facts.keyId(), facts.signature(), digest);
  }

  /** The late-update rule in force ({@link LateUpdates#IGNORED} unless set). */
  public LateUpdates lateUpdates() {
    return late;
  }

  /** Rounds {@code facts}' update is late by: 0 when it was trained for this round. */
  public int staleness(UpdateFacts facts) {
    return round - facts.round();
  }

  /**
   * Moves a late update's parameters onto the model it is aggregated into: {@code target + (own -
   * own base)}, each value rounded once to float. The arrays of an on-time update are left as they
   * are.
   */
  public void rebase(UpdateFacts facts, float[] parameters, int target) {
    if (facts.round() == round) {
      return;
    }
    float[] own = baseParameters(facts.round(), facts.cluster());
    float[] onto = targetParameters(target);
    for (int i = 0; i < parameters.length; i++) {
      parameters[i] = (float) ((double) onto[i] + ((double) parameters[i] - own[i]));
    }
  }

  /**
   * The parameters (stored layout) of the model {@code facts}' update was trained from: the round's
   * model of its cluster, or an earlier round's for a late update. Forward-only updates are
   * replayed from it ({@link fedlake.core.client.SeededUpdate#replay}); do not modify.
   */
  public float[] trainedFrom(UpdateFacts facts) {
    return baseParameters(facts.round(), facts.cluster());
  }

  /** One of the round's models: all have the same kind and shape. */
  public Model anyBase() {
    return bases.values().iterator().next();
  }

  /**
   * Requires every site named in {@code assignments} (site to cluster, from {@code file}) to upload
   * an update of its assigned cluster: a site that trains another cluster's model is rejected, so
   * that it cannot pull a cluster it does not belong to. Unassigned sites may train any cluster
   * (IFCA).
   */
  public UpdateValidator withAssignments(Map<String, Integer> value, String file) {
    this.assignments = value == null ? Map.of() : Map.copyOf(value);
    this.assignmentsFile = file;
    return this;
  }

  /**
   * Bases of the clusters updates are aggregated into, including new clusters; defaults to the
   * round's models.
   */
  public UpdateValidator withAggregationBases(Map<Integer, Model> value) {
    this.aggregationBases = Map.copyOf(value);
    return this;
  }

  /**
   * Bounds SCAFFOLD control deltas: every |value| at most {@code factor} times the model's logit
   * scale (at least 1), and at most the value limit. Honest control variates are averages of
   * gradients, and every gradient entry of the head's cross-entropy on unit-length embeddings is at
   * most the logit scale in absolute value, so a control delta is at most twice that.
   */
  public UpdateValidator withControlDeltaBound(double factor) {
    if (!(factor > 0) || !Double.isFinite(factor)) {
      throw new IllegalArgumentException("control delta bound must be positive, got " + factor);
    }
    this.controlDeltaBound = factor;
    return this;
  }

  /**
   * Largest |value| of a control delta, and of the server control variate, for models shaped like
   * {@code model}.
   */
  public static double controlLimit(double factor, Model model, double maxAbsValue) {
    return Math.min(maxAbsValue, factor * Math.max(1.0, Math.abs((double) model.getLogitScale())));
  }

  /**
   * Requires an update's createdTime to lie between its base model's createdTime and {@code
   * nowMillis} (the round job's clock), each with {@code skewMillis} of slack for clocks that
   * disagree. Without this call createdTime is not checked.
   */
  public UpdateValidator withTimeBounds(long nowMillis, long skewMillis) {
    if (skewMillis < 0) {
      throw new IllegalArgumentException("clock skew must be >= 0, got " + skewMillis);
    }
    this.timeBounds = true;
    this.now = nowMillis;
    this.skewMillis = skewMillis;
    return this;
  }

  public Model aggregationBase(int cluster) {
    Model base = aggregationBases != null ? aggregationBases.get(cluster) : bases.get(cluster);
    if (base == null) {
      throw new IllegalStateException(
          "Round " + round + " has no model to aggregate cluster " + cluster + " into");
    }
    return base;
  }

  /**
   * Checks an update record read from {@code file}: the same rules as the round job's columnar scan
   * ({@link UpdateScan}), for callers that hold records.
   */
  public UpdateCheck check(String file, long fileBytes, Update update) {
    UpdateFacts facts = UpdateFacts.of(update);
    String reason = problem(facts);
    if (reason == null) {
      try {
        update =
            fedlake.core.codec.UpdateCodec.decoded(
                update,
                facts.round() == round
                    ? bases.get(facts.cluster())
                    : lateBases.get(facts.round()).get(facts.cluster()));
      } catch (IllegalArgumentException e) {
        reason = e.getMessage();
      }
    }
    if (reason == null) {
      Model base = bases.get(facts.cluster());
      reason =
          shapeProblem(
              update.getWeights().size(),
              update.getBias().size(),
              update.getCacheKeys().size(),
              update.getControlDelta().size(),
              base);
    }
    if (reason == null) {
      reason = controlDeltaProblem(FloatArrays.toArray(update.getControlDelta()));
    }
    if (reason == null) {
      float[] parameters = Models.parameters(update);
      reason =
          signatureProblem(
              facts,
              parameters,
              parameters.length,
              FloatArrays.toArray(update.getControlDelta()),
              update.getStatisticsFingerprint());
    }
    if (reason == null && update.getClassStatistics() != null) {
      reason =
          statisticsProblem(
              update.getClassStatistics(),
              facts.labelHistogram(),
              facts.classCount(),
              facts.dimension());
    }
    if (reason != null) {
      return facts.check(file, fileBytes, null, reason);
    }
    return checkParameters(file, fileBytes, facts, Models.parameters(update));
  }

  /**
   * Checks the decoded parameters of an update whose facts passed: finite, within the value limit;
   * measures their distance to the base. The returned check is accepted or says which value failed.
   */
  public UpdateCheck checkParameters(
      String file, long fileBytes, UpdateFacts facts, float[] parameters) {
    float[] reference = baseParameters(facts.round(), facts.cluster());
    float limit = (float) Math.min(maxAbsValue, Float.MAX_VALUE);
    if (limit > maxAbsValue) {
      limit = Math.nextDown(limit); // the largest float within the limit
    }
    double squared = Distances.squaredDistanceIfWithin(parameters, reference, limit);
    if (Double.isNaN(squared)) {
      for (int j = 0; j < parameters.length; j++) {
        float v = parameters[j];
        if (!Float.isFinite(v)) {
          return facts.check(file, fileBytes, null, "non-finite parameter " + v + " at index " + j);
        }
        if (Math.abs(v) > maxAbsValue) {
          return facts.check(
              file,
              fileBytes,
              null,
              "parameter "
                  + v
                  + " at index "
                  + j
                  + " exceeds the limit of "
                  + maxAbsValue
                  + " in absolute value");
        }
      }
    }
    return facts.check(file, fileBytes, Math.sqrt(squared), null);
  }

  private transient Map<Long, float[]> baseParameters;
  private transient Map<Integer, float[]> targetParameters;

  /**
   * The flattened parameters of the model of {@code round} and {@code cluster} an update was
   * trained from, computed once per validator instance (once per task). Do not change it.
   */
  public synchronized float[] baseParameters(int round, int cluster) {
    if (baseParameters == null) {
      baseParameters = new java.util.HashMap<>();
    }
    return baseParameters.computeIfAbsent(
        ((long) round << 32) | (cluster & 0xffffffffL),
        key ->
            Models.parameters(
                round == this.round ? bases.get(cluster) : lateBases.get(round).get(cluster)));
  }

  private synchronized float[] targetParameters(int cluster) {
    if (targetParameters == null) {
      targetParameters = new java.util.HashMap<>();
    }
    return targetParameters.computeIfAbsent(cluster, c -> Models.parameters(aggregationBase(c)));
  }

  /** Why an update's lengths do not fit its base, or null. */
  public static String shapeProblem(
      int weights, int bias, int cacheKeys, int controlDelta, Model base) {
    String shape = length("weights", weights, base.getWeights().size());
    if (shape == null) {
      shape = length("bias", bias, base.getBias().size());
    }
    if (shape == null && cacheKeys != base.getCacheKeys().size()) {
      shape = keyCount(cacheKeys, base);
    }
    if (shape == null && controlDelta != 0) {
      shape = length("controlDelta", controlDelta, Models.parameterCount(base));
    }
    return shape;
  }

  /**
   * Why a control delta is not acceptable (non-finite, beyond the value limit or beyond the control
   * bound), or null.
   */
  public String controlDeltaProblem(float[] controlDelta) {
    if (controlDelta.length == 0) {
      return null;
    }
    Model any = anyBase();
    double limit = controlLimit(controlDeltaBound, any, maxAbsValue);
    for (int i = 0; i < controlDelta.length; i++) {
      float v = controlDelta[i];
      if (!Float.isFinite(v) || Math.abs(v) > limit) {
        return "controlDelta holds "
            + v
            + " at index "
            + i
            + ", not a finite value within "
            + limit
            + " (robustness.controlDeltaBound "
            + controlDeltaBound
            + " x logit scale "
            + any.getLogitScale()
            + ", at most maxAbsValue "
            + maxAbsValue
            + ")";
      }
    }
    return null;
  }

  /** Largest absolute parameter value accepted. */
  public double maxAbsValue() {
    return maxAbsValue;
  }

  /** Why the facts of an update disqualify it, or null when its parameters are worth decoding. */
  public String problem(UpdateFacts u) {
    if (u.site() == null || !Store.SITE.matcher(u.site()).matches()) {
      return "invalid site id '" + u.site() + "': site ids are " + Store.SITE_ALPHABET;
    }
    if (registeredSites != null && !registeredSites.contains(u.site())) {
      return "unknown site '" + u.site() + "': not registered in the federation";
    }
    if (u.updateId() != null && aggregatedIds.contains(u.updateId())) {
      return "replayed: update "
          + u.updateId()
          + " of site "
          + u.site()
          + " was aggregated in an earlier round";
    }
    if (sampling != null && !sampling.sampled(round, u.site())) {
      return "site "
          + u.site()
          + " was not drawn for round "
          + round
          + " (privacy.sampleFraction "
          + sampling.sampleFraction()
          + ")";
    }
    Map<Integer, Model> from = u.round() == round ? bases : lateBases.get(u.round());
    if (from == null) {
      return "wrong round: update is for round "
          + u.round()
          + ", the current round is "
          + round
          + (late.buffered()
              ? " (the round policy takes updates up to " + late.maxStaleness() + " round(s) late)"
              : "");
    }
    Model base = from.get(u.cluster());
    if (base != null && from != bases && !bases.containsKey(u.cluster())) {
      return "late update of cluster "
          + u.cluster()
          + ", which has no model in round "
          + round
          + " to aggregate it into";
    }
    if (base == null) {
      return "unknown cluster "
          + u.cluster()
          + ": round "
          + u.round()
          + " has models for clusters "
          + new java.util.TreeSet<>(from.keySet());
    }
    Integer assigned = assignments.get(u.site());
    if (assigned != null && assigned.intValue() != u.cluster()) {
      return "cluster "
          + u.cluster()
          + " disagrees with the site's assignment to cluster "
          + assigned
          + " ("
          + assignmentsFile
          + ")";
    }
    if (!base.getKind().equals(u.kind())) {
      return "model kind mismatch: update is a '"
          + u.kind()
          + "' model, the federation's model is '"
          + base.getKind()
          + "'";
    }
    if (!base.getVersion().equals(u.baseModelVersion())) {
      return "stale base model: trained from "
          + u.baseModelVersion()
          + ", the "
          + (from == bases ? "current" : "round " + u.round())
          + " model is "
          + base.getVersion();
    }
    String time = timeProblem(u.createdTime(), base);
    if (time != null) {
      return time;
    }
    if (u.dimension() != base.getDimension()) {
      return "dimension mismatch: update has "
          + u.dimension()
          + ", model expects "
          + base.getDimension();
    }
    if (u.classCount() != base.getClassCount()) {
      return "class count mismatch: update has "
          + u.classCount()
          + ", model expects "
          + base.getClassCount();
    }
    if (u.numExamples() <= 0) {
      return "numExamples must be positive, got " + u.numExamples();
    }
    if (u.numExamples() >= (1L << 39)) {
      return "numExamples " + u.numExamples() + " is implausibly large";
    }
    if (u.localSteps() < 0) {
      return "localSteps must be >= 0, got " + u.localSteps();
    }
    if (!Double.isFinite(u.localLoss())) {
      return "non-finite localLoss " + u.localLoss();
    }
    if (!Double.isFinite(u.localAccuracy())) {
      return "non-finite localAccuracy " + u.localAccuracy();
    }
    long[] histogram = u.labelHistogram();
    if (histogram.length != base.getClassCount()) {
      return "labelHistogram has "
          + histogram.length
          + " entries, model has "
          + base.getClassCount()
          + " classes";
    }
    long labelled = 0;
    for (int c = 0; c < histogram.length; c++) {
      if (histogram[c] < 0) {
        return "labelHistogram has negative count " + histogram[c] + " for class " + c;
      }
      labelled += histogram[c];
    }
    if (labelled > u.numExamples()) {
      return "labelHistogram counts "
          + labelled
          + " examples, more than numExamples "
          + u.numExamples();
    }
    return null;
  }

  private String timeProblem(long created, Model base) {
    if (!timeBounds) {
      return null;
    }
    long skewSeconds = skewMillis / 1000;
    if (created > now + skewMillis) {
      return "createdTime "
          + java.time.Instant.ofEpochMilli(created)
          + " lies in the future: the round job's clock says "
          + java.time.Instant.ofEpochMilli(now)
          + " and allows "
          + skewSeconds
          + " s of clock skew (robustness.maxClockSkewSeconds)";
    }
    long baseCreated =
        base.getCreatedTime() == null ? Long.MIN_VALUE : base.getCreatedTime().toEpochMilli();
    if (baseCreated != Long.MIN_VALUE && created < baseCreated - skewMillis) {
      return "createdTime "
          + java.time.Instant.ofEpochMilli(created)
          + " precedes its base model "
          + base.getVersion()
          + " (created "
          + base.getCreatedTime()
          + ") by more than the "
          + skewSeconds
          + " s of clock skew allowed (robustness.maxClockSkewSeconds)";
    }
    return null;
  }

  /** Checks reported statistics against the update's own label histogram too. */
  static String statisticsProblem(
      List<ClassStatistics> statistics, long[] histogram, int classCount, int dimension) {
    String problem = statisticsProblem(statistics, classCount, dimension);
    if (problem == null) {
      for (ClassStatistics s : statistics) {
        if (s.getCount() != histogram[s.getClassId()]) {
          return "class statistics for class "
              + s.getClassId()
              + " count "
              + s.getCount()
              + " examples, labelHistogram has "
              + histogram[s.getClassId()];
        }
      }
    }
    return problem;
  }

  private static String keyCount(int actual, Model base) {
    if (base.getCacheKeys().isEmpty()) {
      return length("cacheKeys", actual, 0);
    }
    int dimension = base.getDimension();
    String keys = actual % dimension == 0 ? " (" + keys(actual / dimension, dimension) + ")" : "";
    return "cacheKeys has "
        + actual
        + " values"
        + keys
        + ", model expects "
        + base.getCacheKeys().size()
        + " ("
        + keys(base.getCacheLabels().size(), dimension)
        + ")";
  }

  private static String keys(int count, int dimension) {
    return count + (count == 1 ? " key" : " keys") + " of dimension " + dimension;
  }

  private static String length(String field, int actual, int expected) {
    return actual == expected
        ? null
        : field + " has " + actual + " values, model expects " + expected;
  }

  /** Checks reported per-class statistics; also used by the jobs that pool them. */
  public static String statisticsProblem(List<ClassStatistics> statistics, Model base) {
    return statisticsProblem(statistics, base.getClassCount(), base.getDimension());
  }

  /**
   * Checks per-class statistics for {@code classCount} classes of {@code dimension}-long
   * embeddings: known classes, each once, positive counts, right lengths, finite values, and values
   * that statistics of unit-length embeddings can take (|mean|, variance, |covariance| at most 1).
   */
  public static String statisticsProblem(
      List<ClassStatistics> statistics, int classCount, int dimension) {
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (ClassStatistics s : statistics) {
      int c = s.getClassId();
      if (c < 0 || c >= classCount) {
        return "class statistics for class " + c + " outside 0.." + (classCount - 1);
      }
      if (!seen.add(c)) {
        return "class statistics for class " + c + " appear twice";
      }
      if (s.getCount() <= 0) {
        return "class statistics for class "
            + c
            + " have count "
            + s.getCount()
            + " (must be positive)";
      }
      if (s.getCount() >= (1L << 39)) {
        return "class statistics for class "
            + c
            + " have count "
            + s.getCount()
            + ", implausibly large";
      }
      String shape = length("class " + c + " mean", s.getMean().size(), dimension);
      if (shape == null) {
        shape = length("class " + c + " variance", s.getVariance().size(), dimension);
      }
      if (shape == null && s.getCovariance() != null) {
        shape =
            length("class " + c + " covariance", s.getCovariance().size(), dimension * dimension);
      }
      if (shape != null) {
        return shape;
      }
      for (List<Float> values :
          java.util.Arrays.asList(s.getMean(), s.getVariance(), s.getCovariance())) {
        if (values == null) {
          continue;
        }
        for (Float v : values) {
          if (!Float.isFinite(v)) {
            return "class statistics for class " + c + " hold a non-finite value " + v;
          }
          if (Math.abs(v) > STATISTICS_BOUND) {
            return "class statistics for class "
                + c
                + " hold "
                + v
                + ", impossible for unit-length embeddings (|value| <= 1)";
          }
        }
      }
      for (Float v : s.getVariance()) {
        if (v < 0) {
          return "class statistics for class " + c + " hold a negative variance " + v;
        }
      }
    }
    return null;
  }
}
