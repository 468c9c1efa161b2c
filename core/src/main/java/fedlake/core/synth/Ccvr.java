package fedlake.core.synth;

import fedlake.core.data.Dataset;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.round.Calibrator;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.Model;
import java.util.Locale;
import java.util.Map;

/**
 * Classifier calibration with virtual representations (CCVR, Luo et al. 2021) for the round job:
 * after aggregation, pool the class statistics of the accepted updates exactly, draw the same number
 * of virtual embeddings from every class's Gaussian, and re-fit the head on that class-balanced set
 * with fedlake's trainer. Under label skew the averaged head is biased toward the classes the large
 * sites hold; the virtual set sees every class equally. Classes no site reported keep their row of W
 * and their bias. Only heads are calibrated; a round without statistics publishes the aggregate.
 */
public final class Ccvr implements Calibrator {
  public static final int PER_CLASS_DEFAULT = 100;
  public static final int EPOCHS_DEFAULT = 5;
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
      throw new IllegalArgumentException("calibration learning rate must be positive, got " + value);
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

  @Override
  public Outcome calibrate(int round, Model base, float[] parameters, StatisticsPool pool) {
    int classes = base.getClassCount();
    int d = base.getDimension();
    Head aggregated = head(base, parameters);
    Double before = probe == null ? null : aggregated.evaluate(probe).accuracy();
    if (!Models.HEAD.equals(base.getKind())) {
      return new Outcome(parameters, false, before, before, "calibration skipped: it applies to heads, the model is a '"
          + base.getKind() + "'");
    }
    long started = System.nanoTime();
    if (pool.isEmpty()) {
      return new Outcome(parameters, false, before, before, "calibration skipped: no accepted update carried class statistics "
          + "(sites opt in with edge train --site-stats)");
    }
    Map<Integer, ClassMoments> pooled = pool.result();
    GaussianSource source = new GaussianSource(classes, d, pooled, shrinkage, Map.of("round", Integer.toString(round)));
    long roundSeed = seed + round;
    float[] features = new float[pooled.size() * perClass * d];
    int[] labels = new int[pooled.size() * perClass];
    int row = 0;
    for (int c : pooled.keySet()) {
      ClassEmbeddings e = source.embeddings(c, perClass, Seeds.forClass(roundSeed, c));
      System.arraycopy(e.values(), 0, features, row * d, e.values().length);
      java.util.Arrays.fill(labels, row, row + perClass, c);
      row += perClass;
    }
    long sampled = System.nanoTime();
    Dataset virtual = Dataset.of("virtual features of round " + round, features, labels, d);
    Head start = fromScratch ? Head.zeros(d, classes, aggregated.logitScale()) : aggregated;
    TrainSettings settings = new TrainSettings(epochs, batchSize, learningRate, 0, 0, roundSeed, false);
    Head fitted = LocalTrainer.train(start, virtual, settings, LocalTrainer.Progress.NONE).head();
    for (int c = 0; c < classes; c++) {
      if (!pooled.containsKey(c)) { // nothing to re-fit this class on: keep its aggregated row
        System.arraycopy(aggregated.weights(), c * d, fitted.weights(), c * d, d);
        fitted.bias()[c] = aggregated.bias()[c];
      }
    }
    float[] result = parameters.clone();
    System.arraycopy(fitted.weights(), 0, result, 0, fitted.weights().length);
    System.arraycopy(fitted.bias(), 0, result, fitted.weights().length, classes);
    long fittedTime = System.nanoTime();
    Double after = probe == null ? null : fitted.evaluate(probe).accuracy();
    String message = String.format(Locale.ROOT, "CCVR: re-fitted the head %s on %d virtual embeddings per class of %d classes "
        + "(%s covariance pooled from %d update(s)), %d epoch(s) (%.1f s sampling, %.1f s fitting)%s", fromScratch ? "from zeros" : "from the aggregate", perClass,
        pooled.size(), source.parameters().get("covariance"), pool.contributions(), epochs,
        (sampled - started) / 1e9, (fittedTime - sampled) / 1e9,
        probe == null ? "" : String.format(Locale.ROOT, "; probe accuracy %.4f -> %.4f", before, after));
    return new Outcome(result, true, before, after, message);
  }

  private static Head head(Model base, float[] parameters) {
    int w = base.getClassCount() * base.getDimension();
    return new Head(base.getDimension(), base.getClassCount(), base.getLogitScale(), java.util.Arrays.copyOfRange(parameters, 0, w),
        java.util.Arrays.copyOfRange(parameters, w, w + base.getClassCount()));
  }
}
