package fedlake.core.round;

import fedlake.core.model.Models;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks one update against the current round's models. Every check that fails yields a reason
 * naming the offending value; nothing here throws for bad content.
 */
public final class UpdateValidator implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final double MAX_ABS_VALUE_DEFAULT = 1.0e4;
  /** Largest |mean|, variance or |covariance| entry of unit-length embeddings, with room for rounding. */
  private static final double STATISTICS_BOUND = 1.001;
  private static final Pattern SITE = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  private final int round;
  private final Map<Integer, Model> bases;
  private final Set<String> registeredSites;
  private final double maxAbsValue;
  private Map<String, Integer> assignments = Map.of();
  private String assignmentsFile;
  private Map<Integer, Model> aggregationBases;

  /**
   * @param bases the current round's model of each cluster
   * @param registeredSites sites allowed to contribute, or null to accept any well-formed site id
   * @param maxAbsValue largest absolute parameter value accepted
   */
  public UpdateValidator(int round, Map<Integer, Model> bases, Set<String> registeredSites, double maxAbsValue) {
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

  /**
   * Requires every site named in {@code assignments} (site to cluster, from {@code file}) to upload an
   * update of its assigned cluster: a site that trains another cluster's model is rejected, so that it
   * cannot pull a cluster it does not belong to. Unassigned sites may train any cluster (IFCA).
   */
  public UpdateValidator withAssignments(Map<String, Integer> value, String file) {
    this.assignments = value == null ? Map.of() : Map.copyOf(value);
    this.assignmentsFile = file;
    return this;
  }

  /** Bases of the clusters updates are aggregated into, including new clusters; defaults to the round's models. */
  public UpdateValidator withAggregationBases(Map<Integer, Model> value) {
    this.aggregationBases = Map.copyOf(value);
    return this;
  }

  public Model aggregationBase(int cluster) {
    Model base = aggregationBases != null ? aggregationBases.get(cluster) : bases.get(cluster);
    if (base == null) {
      throw new IllegalStateException("Round " + round + " has no model to aggregate cluster " + cluster + " into");
    }
    return base;
  }

  /** Checks an update read from {@code file}. */
  public UpdateCheck check(String file, long fileBytes, Update update) {
    Integer cluster = update.getCluster();
    UpdateCheck facts = new UpdateCheck(file, fileBytes, update.getSite(), update.getUpdateId(), cluster,
        update.getCreatedTime() == null ? 0 : update.getCreatedTime().toEpochMilli(), update.getNumExamples(),
        update.getLocalLoss(), update.getLocalAccuracy(), null, null);
    String reason = problem(update);
    if (reason != null) {
      return facts.reject(reason);
    }
    Model base = bases.get(cluster);
    float[] parameters = Models.parameters(update);
    float[] reference = Models.parameters(base);
    double squares = 0;
    for (int i = 0; i < parameters.length; i++) {
      float v = parameters[i];
      if (!Float.isFinite(v)) {
        return facts.reject("non-finite parameter " + v + " at index " + i);
      }
      if (Math.abs(v) > maxAbsValue) {
        return facts.reject("parameter " + v + " at index " + i + " exceeds the limit of " + maxAbsValue + " in absolute value");
      }
      double d = (double) v - reference[i];
      squares += d * d;
    }
    return new UpdateCheck(facts.file(), fileBytes, facts.site(), facts.updateId(), cluster, facts.createdTime(),
        facts.numExamples(), facts.localLoss(), facts.localAccuracy(), Math.sqrt(squares), null);
  }

  private String problem(Update u) {
    if (u.getSite() == null || !SITE.matcher(u.getSite()).matches()) {
      return "invalid site id '" + u.getSite() + "'";
    }
    if (registeredSites != null && !registeredSites.contains(u.getSite())) {
      return "unknown site '" + u.getSite() + "': not registered in the federation";
    }
    if (u.getRound() != round) {
      return "wrong round: update is for round " + u.getRound() + ", the current round is " + round;
    }
    Model base = bases.get(u.getCluster());
    if (base == null) {
      return "unknown cluster " + u.getCluster() + ": round " + round + " has models for clusters " + new java.util.TreeSet<>(bases.keySet());
    }
    Integer assigned = assignments.get(u.getSite());
    if (assigned != null && assigned.intValue() != u.getCluster()) {
      return "cluster " + u.getCluster() + " disagrees with the site's assignment to cluster " + assigned + " (" + assignmentsFile + ")";
    }
    if (!base.getKind().equals(u.getKind())) {
      return "model kind mismatch: update is a '" + u.getKind() + "' model, the federation's model is '" + base.getKind() + "'";
    }
    if (!base.getVersion().equals(u.getBaseModelVersion())) {
      return "stale base model: trained from " + u.getBaseModelVersion() + ", the current model is " + base.getVersion();
    }
    if (u.getDimension() != base.getDimension()) {
      return "dimension mismatch: update has " + u.getDimension() + ", model expects " + base.getDimension();
    }
    if (u.getClassCount() != base.getClassCount()) {
      return "class count mismatch: update has " + u.getClassCount() + ", model expects " + base.getClassCount();
    }
    String shape = length("weights", u.getWeights().size(), base.getWeights().size());
    if (shape == null) {
      shape = length("bias", u.getBias().size(), base.getBias().size());
    }
    if (shape == null && u.getCacheKeys().size() != base.getCacheKeys().size()) {
      shape = keyCount(u.getCacheKeys().size(), base);
    }
    if (shape == null && !u.getControlDelta().isEmpty()) {
      shape = length("controlDelta", u.getControlDelta().size(), base.getWeights().size() + base.getBias().size() + base.getCacheKeys().size());
    }
    if (shape != null) {
      return shape;
    }
    for (Float v : u.getControlDelta()) {
      if (!Float.isFinite(v) || Math.abs(v) > maxAbsValue) {
        return "controlDelta holds " + v + ", not a finite value within " + maxAbsValue;
      }
    }
    if (u.getNumExamples() <= 0) {
      return "numExamples must be positive, got " + u.getNumExamples();
    }
    if (u.getNumExamples() >= (1L << 39)) {
      return "numExamples " + u.getNumExamples() + " is implausibly large";
    }
    if (!Double.isFinite(u.getLocalLoss())) {
      return "non-finite localLoss " + u.getLocalLoss();
    }
    if (!Double.isFinite(u.getLocalAccuracy())) {
      return "non-finite localAccuracy " + u.getLocalAccuracy();
    }
    List<Long> histogram = u.getLabelHistogram();
    if (histogram.size() != base.getClassCount()) {
      return "labelHistogram has " + histogram.size() + " entries, model has " + base.getClassCount() + " classes";
    }
    long labelled = 0;
    for (int c = 0; c < histogram.size(); c++) {
      if (histogram.get(c) < 0) {
        return "labelHistogram has negative count " + histogram.get(c) + " for class " + c;
      }
      labelled += histogram.get(c);
    }
    if (labelled > u.getNumExamples()) {
      return "labelHistogram counts " + labelled + " examples, more than numExamples " + u.getNumExamples();
    }
    if (u.getClassStatistics() == null) {
      return null;
    }
    String statistics = statisticsProblem(u.getClassStatistics(), base);
    if (statistics == null) {
      for (ClassStatistics s : u.getClassStatistics()) {
        if (s.getCount() != histogram.get(s.getClassId())) {
          return "class statistics for class " + s.getClassId() + " count " + s.getCount() + " examples, labelHistogram has "
              + histogram.get(s.getClassId());
        }
      }
    }
    return statistics;
  }

  private static String keyCount(int actual, Model base) {
    if (base.getCacheKeys().isEmpty()) {
      return length("cacheKeys", actual, 0);
    }
    int dimension = base.getDimension();
    String keys = actual % dimension == 0 ? " (" + keys(actual / dimension, dimension) + ")" : "";
    return "cacheKeys has " + actual + " values" + keys + ", model expects " + base.getCacheKeys().size()
        + " (" + keys(base.getCacheLabels().size(), dimension) + ")";
  }

  private static String keys(int count, int dimension) {
    return count + (count == 1 ? " key" : " keys") + " of dimension " + dimension;
  }

  private static String length(String field, int actual, int expected) {
    return actual == expected ? null : field + " has " + actual + " values, model expects " + expected;
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
  public static String statisticsProblem(List<ClassStatistics> statistics, int classCount, int dimension) {
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
        return "class statistics for class " + c + " have count " + s.getCount() + " (must be positive)";
      }
      if (s.getCount() >= (1L << 39)) {
        return "class statistics for class " + c + " have count " + s.getCount() + ", implausibly large";
      }
      String shape = length("class " + c + " mean", s.getMean().size(), dimension);
      if (shape == null) {
        shape = length("class " + c + " variance", s.getVariance().size(), dimension);
      }
      if (shape == null && s.getCovariance() != null) {
        shape = length("class " + c + " covariance", s.getCovariance().size(), dimension * dimension);
      }
      if (shape != null) {
        return shape;
      }
      for (List<Float> values : java.util.Arrays.asList(s.getMean(), s.getVariance(), s.getCovariance())) {
        if (values == null) {
          continue;
        }
        for (Float v : values) {
          if (!Float.isFinite(v)) {
            return "class statistics for class " + c + " hold a non-finite value " + v;
          }
          if (Math.abs(v) > STATISTICS_BOUND) {
            return "class statistics for class " + c + " hold " + v + ", impossible for unit-length embeddings (|value| <= 1)";
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
