package fedlake.core.synth;

import fedlake.core.client.GradientTerm;
import fedlake.core.client.HeadObjective;
import fedlake.core.client.LocalTraining;
import fedlake.core.data.Dataset;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.round.CalibrationStatistics;
import fedlake.core.round.Calibrator;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.Model;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Classifier calibration with virtual representations (CCVR, Luo et al. 2021) for the round job:
 * after aggregation, pool the class statistics of the accepted updates exactly, draw the same
 * number of virtual embeddings from every class's Gaussian, and re-fit the head on that
 * class-balanced set with fedlake's trainer. Under label skew the averaged head is biased toward
 * the classes the large sites hold; the virtual set sees every class equally. Classes no site
 * reported keep their row of W and their bias. Only heads are calibrated; a round without
 * statistics publishes the aggregate.
 */
public final class Ccvr implements Calibrator {
  public static final int PER_CLASS_DEFAULT = 100;
  public static final int EPOCHS_DEFAULT = 3;
  public static final int BATCH_SIZE_DEFAULT = 64;
  public static final double LEARNING_RATE_DEFAULT = 0.3;
  public static final double SHRINKAGE_DEFAULT = 0.0;

  private int perClass = PER_CLASS_DEFAULT;
  private int epochs = EPOCHS_DEFAULT;
  private int batchSize = BATCH_SIZE_DEFAULT;
  private double learningRate = LEARNING_RATE_DEFAULT;
  private double shrinkage = SHRINKAGE_DEFAULT;
  private boolean fromScratch;
  private long seed;
  private Dataset probe;
  private boolean cache = true;

  public Ccvr() {}

  /** Virtual embeddings drawn per class (default {@value #PER_CLASS_DEFAULT}). */
  public Ccvr perClass(int value) {
    this.perClass = SyntheticTable.requirePerClass(value);
    return this;
  }

  public Ccvr epochs(int value) {
    if (value < 1) {
      throw new IllegalArgumentException("calibration epochs must be at least 1, got " + value);
    }
    this.epochs = value;
    return this;
  }

  public Ccvr batchSize(int value) {
    if (value < 1) {
      throw new IllegalArgumentException("calibration batch size must be at least 1, got " + value);
    }
    this.batchSize = value;
    return this;
  }

  public Ccvr learningRate(double value) {
    if (!(value > 0) || !Double.isFinite(value)) {
      throw new IllegalArgumentException(
          "calibration learning rate must be positive, got " + value);
    }
    this.learningRate = value;
    return this;
  }

  /** Moves the pooled covariance toward its diagonal, see {@link ClassGaussian}. */
  public Ccvr shrinkage(double value) {
    if (!(value >= 0 && value <= 1)) {
      throw new IllegalArgumentException("calibration shrinkage must be in [0, 1], got " + value);
    }
    this.shrinkage = value;
    return this;
  }

  /** Re-fit from a zero head instead of from the aggregated one. */
  public Ccvr fromScratch(boolean value) {
    this.fromScratch = value;
    return this;
  }

  /** Seed of the virtual samples and the shuffling; round r uses seed + r. */
  public Ccvr seed(long value) {
    this.seed = value;
    return this;
  }

  /** A labelled set to measure the effect on (recorded in the history), or null. */
  public Ccvr probe(Dataset value) {
    this.probe = value;
    return this;
  }

  /**
   * Keep the factored class Gaussians in the store and reuse them while the same sites contribute
   * the same statistics (default on); off: pool and factor every round. Both give the same model.
   */
  public Ccvr cache(boolean value) {
    this.cache = value;
    return this;
  }

  @Override
  public Outcome calibrate(
      int round, Model base, float[] parameters, CalibrationStatistics statistics) {
    int classes = base.getClassCount();
    int d = base.getDimension();
    Head aggregated = head(base, parameters);
    long probing = System.nanoTime();
    Double before = probe == null ? null : aggregated.evaluate(probe).accuracy();
    probing = System.nanoTime() - probing;
    if (!Models.HEAD.equals(base.getKind())) {
      return new Outcome(
          parameters,
          false,
          before,
          before,
          "calibration skipped: it applies to heads, the model is a '" + base.getKind() + "'");
    }
    if (statistics.isEmpty()) {
      String message =
          statistics.unmatched().isEmpty()
              ? "calibration skipped: no accepted update carried class statistics (sites opt in with edge train --site-stats)"
              : "calibration skipped: no accepted update carried class statistics or the fingerprint of statistics the store holds; "
                  + unmatched(statistics);
      return new Outcome(parameters, false, before, before, message);
    }
    long started = System.nanoTime();
    String key =
        statistics.key()
            + String.format(Locale.ROOT, " shrinkage %s", Double.doubleToLongBits(shrinkage));
    StatisticsStore store = cache ? statistics.store() : null;
    PooledGaussians gaussians = store == null ? null : store.cached(statistics.cluster(), key);
    boolean reused = gaussians != null;
    long pooledTime = started;
    long factoredTime = started;
    if (gaussians == null) {
      Map<Integer, ClassMoments> pooled = statistics.pool().result();
      pooledTime = System.nanoTime();
      gaussians = PooledGaussians.factor(key, d, pooled, shrinkage);
      factoredTime = System.nanoTime();
      if (store != null) {
        store.cache(statistics.cluster(), gaussians);
      }
    }
    long cachedTime = System.nanoTime();
    Map<Integer, ClassGaussian> sources = gaussians.classes();
    for (int c : sources.keySet()) {
      if (c < 0 || c >= classes) {
        throw new IllegalArgumentException(
            "statistics of class " + c + " outside 0.." + (classes - 1));
      }
    }
    long roundSeed = seed + round;
    Integer[] ids = sources.keySet().toArray(new Integer[0]);
    float[] features = new float[ids.length * perClass * d];
    int[] labels = new int[ids.length * perClass];
    // classes in parallel: class c draws from its own stream (seed + round, c) into its own rows
    IntStream.range(0, ids.length)
        .parallel()
        .forEach(
            k -> {
              int c = ids[k];
              float[] rows = sources.get(c).sample(perClass, Seeds.forClass(roundSeed, c));
              System.arraycopy(rows, 0, features, k * perClass * d, rows.length);
              java.util.Arrays.fill(labels, k * perClass, (k + 1) * perClass, c);
            });
    Dataset virtual = Dataset.of("virtual features of round " + round, features, labels, d);
    long sampled = System.nanoTime();
    Head start = fromScratch ? Head.zeros(d, classes, aggregated.logitScale()) : aggregated;
    // LocalTraining directly: LocalTrainer would also evaluate the fitted head on every virtual row
    // (a scalar pass as long as a third of the fit), which nothing here reads
    TrainSettings settings =
        new TrainSettings(epochs, batchSize, learningRate, 0, 0, roundSeed, false);
    HeadObjective objective = HeadObjective.of(start, virtual, false);
    float[] packed = java.util.Arrays.copyOf(start.weights(), classes * d + classes);
    System.arraycopy(start.bias(), 0, packed, classes * d, classes);
    float[] fitted =
        LocalTraining.train(
                objective, packed, virtual, settings, GradientTerm.NONE, LocalTrainer.Progress.NONE)
            .parameters();
    float[] result = parameters.clone();
    for (int c = 0; c < classes; c++) {
      // a class without statistics had nothing to re-fit on: it keeps its aggregated row and bias
      if (sources.containsKey(c)) {
        System.arraycopy(fitted, c * d, result, c * d, d);
        result[classes * d + c] = fitted[classes * d + c];
      }
    }
    long fittedTime = System.nanoTime();
    Double after = probe == null ? null : head(base, result).evaluate(probe).accuracy();
    probing += System.nanoTime() - fittedTime;
    String origin =
        String.format(
            Locale.ROOT,
            "%s covariance pooled from %d site(s): %d sent with the update, %d held by the store",
            gaussians.covariance(),
            statistics.sources().size(),
            statistics.sentCount(),
            statistics.storedCount());
    String timings =
        reused
            ? String.format(
                Locale.ROOT,
                "Gaussians reused from the cache (%.2f s to load), %.2f s sampling, %.2f s fitting",
                (cachedTime - started) / 1e9,
                (sampled - cachedTime) / 1e9,
                (fittedTime - sampled) / 1e9)
            : String.format(
                Locale.ROOT,
                "%.2f s pooling, %.2f s factoring, %.2f s %s, %.2f s sampling, %.2f s fitting",
                (pooledTime - started) / 1e9,
                (factoredTime - pooledTime) / 1e9,
                (cachedTime - factoredTime) / 1e9,
                store == null ? "not cached" : "caching",
                (sampled - cachedTime) / 1e9,
                (fittedTime - sampled) / 1e9);
    String message =
        String.format(
            Locale.ROOT,
            "CCVR: re-fitted the head %s on %d virtual embeddings per class of %d classes "
                + "(%s%s), %d epoch(s) (%s)%s",
            fromScratch ? "from zeros" : "from the aggregate",
            perClass,
            ids.length,
            origin,
            statistics.unmatched().isEmpty() ? "" : "; " + unmatched(statistics),
            epochs,
            timings,
            probe == null
                ? ""
                : String.format(
                    Locale.ROOT,
                    "; probe accuracy %.4f -> %.4f (%.2f s to evaluate)",
                    before,
                    after,
                    probing / 1e9));
    return new Outcome(result, true, before, after, message);
  }

  /** "2 site(s) claimed statistics the store does not hold, none used from them: [a, b]". */
  private static String unmatched(CalibrationStatistics statistics) {
    List<String> sites = statistics.unmatched();
    String names =
        sites.size() <= 5
            ? sites.toString()
            : sites.subList(0, 5) + " and " + (sites.size() - 5) + " more";
    return sites.size()
        + " site(s) claimed statistics the store does not hold, none used from them: "
        + names;
  }

  private static Head head(Model base, float[] parameters) {
    int w = base.getClassCount() * base.getDimension();
    return new Head(
        base.getDimension(),
        base.getClassCount(),
        base.getLogitScale(),
        java.util.Arrays.copyOfRange(parameters, 0, w),
        java.util.Arrays.copyOfRange(parameters, w, w + base.getClassCount()));
  }
}
