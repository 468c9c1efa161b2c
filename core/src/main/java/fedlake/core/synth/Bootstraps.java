package fedlake.core.synth;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.model.Head;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.SyntheticRow;
import java.util.List;
import java.util.Map;

/**
 * Round-0 heads made on the server before any site trained: from class text embeddings (zero-shot)
 * or trained on a synthetic embedding table. Both are ordinary heads ({@code logits = logitScale *
 * W x + b}) that sites fine-tune like any other.
 */
public final class Bootstraps {
  public static final String ZERO_SHOT = "zero-shot";
  public static final String SYNTHETIC = "synthetic";

  /** CLIP's learnt logit scale: zero-shot logits are 100 x cosine similarity. */
  public static final double ZERO_SHOT_SCALE_DEFAULT = 100;

  /** Keys per class of a cache model drawn from pooled site statistics ({@link #cacheKeys}). */
  public static final int CACHE_KEYS_PER_CLASS_DEFAULT = 8;

  private Bootstraps() {}

  /**
   * The zero-shot head: row {@code c} of W is the unit text embedding of class {@code c} times
   * {@code zeroShotScale / logitScale}, the bias is zero. Its logits are {@code zeroShotScale}
   * times the cosine similarity of the (unit) image embedding to each class text, so its argmax is
   * cosine zero-shot classification and its probabilities are CLIP's.
   */
  public static Head zeroShot(TextEmbeddings text, float logitScale, double zeroShotScale) {
    if (!(zeroShotScale > 0) || !Double.isFinite(zeroShotScale)) {
      throw new IllegalArgumentException("zero-shot scale must be positive, got " + zeroShotScale);
    }
    float factor = (float) (zeroShotScale / logitScale);
    float[] weights = text.values().clone();
    for (int i = 0; i < weights.length; i++) {
      weights[i] *= factor;
    }
    return new Head(
        text.dimension(), text.classCount(), logitScale, weights, new float[text.classCount()]);
  }

  /**
   * A head trained from zeros on {@code table} with fedlake's own trainer (the one sites run), so
   * it has the federation's parameterisation and is bit-for-bit reproducible from the settings'
   * seed.
   */
  public static Head trained(
      Dataset table, int classCount, float logitScale, TrainSettings settings) {
    return LocalTrainer.train(
            Head.zeros(table.dimension(), classCount, logitScale),
            table,
            settings,
            LocalTrainer.Progress.NONE)
        .head();
  }

  /**
   * Training settings for a bootstrap head: the sites' defaults with more epochs over the small
   * table.
   */
  public static TrainSettings trainSettings(long seed) {
    return TrainSettings.defaults(seed).withEpochs(10);
  }

  /**
   * Class-balanced synthetic cache keys: {@code perClass} unit draws for every class any site
   * holds, from the diagonal Gaussian of the class's statistics pooled exactly over the sites (each
   * site contributes only what {@code edge train --site-stats variance} reports: count, mean and
   * per-dimension variance of each class). Classes no site holds get no keys.
   */
  public static Dataset cacheKeys(List<Dataset> sites, int classCount, int perClass, long seed) {
    SyntheticTable.requirePerClass(perClass);
    if (sites.isEmpty()) {
      throw new IllegalArgumentException("Cannot draw synthetic keys without sites");
    }
    int dimension = sites.get(0).dimension();
    StatisticsPool pool = new StatisticsPool(dimension);
    for (Dataset site : sites) {
      if (site.dimension() != dimension) {
        throw new InvalidInputException(
            site.source(),
            "rows have dimension " + site.dimension() + ", other sites have " + dimension);
      }
      pool.add(ClassMoments.of(site, classCount, ClassMoments.Spread.VARIANCE));
    }
    if (pool.isEmpty()) {
      throw new IllegalArgumentException(
          "Cannot draw synthetic keys: no site has a labelled row below " + classCount);
    }
    GaussianSource source =
        new GaussianSource(
            classCount,
            dimension,
            pool.result(),
            0,
            Map.of("sites", Integer.toString(sites.size())));
    List<SyntheticRow> rows =
        SyntheticTable.generate(source, perClass, seed, SyntheticTable.MissingClasses.SKIP);
    float[] features = new float[rows.size() * dimension];
    int[] labels = new int[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      labels[i] = rows.get(i).getClassId();
      List<Float> embedding = rows.get(i).getEmbedding();
      for (int j = 0; j < dimension; j++) {
        features[i * dimension + j] = embedding.get(j);
      }
    }
    return Dataset.of(
        "synthetic keys (" + perClass + " per class from pooled site statistics)",
        features,
        labels,
        dimension);
  }
}
