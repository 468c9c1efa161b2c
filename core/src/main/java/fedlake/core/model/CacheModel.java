package fedlake.core.model;

/**
 * A Tip-Adapter cache model (Zhang et al., ECCV 2022) over L2-normalised embeddings:
 *
 * <pre>
 *   logits(x) = head(x) + alpha * sum_k exp(-beta * (1 - cos(x, K_k))) * onehot(label_k)
 * </pre>
 *
 * where {@code head} is a {@link Head} (a zero-shot text classifier, or zeros), {@code K} the
 * {@code size x dimension} keys and {@code label_k} the class of key k (its one-hot value row).
 * Keys are compared by cosine: each key is divided by its norm when it scores, so a key's length
 * never changes the logits. Fine-tuning (Tip-Adapter-F) and averaging over sites move the keys and
 * are free to change their lengths; nothing re-normalises them. Mutable: local training updates the
 * keys in place.
 */
public final class CacheModel implements Classifier {
  /**
   * Tip-Adapter's alpha, which goes with its usual 16 keys (shots) per class and CLIP's logit scale
   * of 100; {@link #defaultAlpha} rescales it to other cache sizes and logit scales
   * (docs/cache.md).
   */
  public static final float ALPHA_DEFAULT = 1f;

  /** Keys per class that {@link #ALPHA_DEFAULT} goes with. */
  public static final int ALPHA_KEYS_PER_CLASS = 16;

  /** Default sharpness of the affinities (Tip-Adapter's); see docs/cache.md. */
  public static final float BETA_DEFAULT = 5.5f;

  /**
   * The default alpha: Tip-Adapter's 1, times {@code 16 / keysPerClass} so the cache logits of a
   * class (a sum over its keys) keep their size when the cache holds fewer keys a class, and over a
   * zero-shot text head also times {@code logitScale / 100}, CLIP's logit scale of 100 rescaled to
   * the head's, so cache and text logits keep Tip-Adapter's balance. Over a zero head with 4 keys a
   * class: 4; over a text head at logit scale 10 with 16 keys a class: 0.1. Measured in
   * docs/cache.md.
   */
  public static float defaultAlpha(boolean textHead, float logitScale, double keysPerClass) {
    if (!(keysPerClass > 0)) {
      throw new IllegalArgumentException("keys per class must be positive, got " + keysPerClass);
    }
    double alpha = ALPHA_DEFAULT * ALPHA_KEYS_PER_CLASS / keysPerClass;
    return (float) (textHead ? alpha * logitScale / 100 : alpha);
  }

  /** Mean number of keys per class that has keys. */
  public static double keysPerClass(int[] labels) {
    long classes = java.util.Arrays.stream(labels).distinct().count();
    return classes == 0 ? 1 : (double) labels.length / classes;
  }

  private final Head head;
  private final float[] keys;
  private final int[] labels;
  private final float alpha;
  private final float beta;
  private final float[] inverseNorms;

  /**
   * The keys divided by their lengths, transposed: {@code dimension x size}, so scoring runs as
   * vectorisable row updates.
   */
  private final float[] unitKeysByDimension;

  /**
   * @param keys row-major {@code labels.length x head.dimension()}
   * @param labels class of every key, in [0, head.classCount())
   */
  public CacheModel(Head head, float[] keys, int[] labels, float alpha, float beta) {
    int dimension = head.dimension();
    if ((long) labels.length * dimension != keys.length) {
      throw new IllegalArgumentException(
          "Cache of "
              + labels.length
              + " keys x "
              + dimension
              + " dimensions needs "
              + (long) labels.length * dimension
              + " key values, got "
              + keys.length);
    }
    for (int k = 0; k < labels.length; k++) {
      if (labels[k] < 0 || labels[k] >= head.classCount()) {
        throw new IllegalArgumentException(
            "Cache key "
                + k
                + " has class "
                + labels[k]
                + ", outside 0.."
                + (head.classCount() - 1));
      }
    }
    if (!(alpha >= 0) || !Float.isFinite(alpha)) {
      throw new IllegalArgumentException("Cache alpha must be finite and >= 0, got " + alpha);
    }
    if (!(beta >= 0) || !Float.isFinite(beta)) {
      throw new IllegalArgumentException("Cache beta must be finite and >= 0, got " + beta);
    }
    this.head = head;
    this.keys = keys;
    this.labels = labels;
    this.alpha = alpha;
    this.beta = beta;
    this.inverseNorms = new float[labels.length];
    this.unitKeysByDimension = new float[keys.length];
    refreshNorms();
  }

  public CacheModel copy() {
    return new CacheModel(head.copy(), keys.clone(), labels.clone(), alpha, beta);
  }

  /** The head part; training of the keys leaves it unchanged. */
  public Head head() {
    return head;
  }

  /**
   * Row-major keys as stored (not necessarily unit length); training writes into this array, then
   * calls {@link #refreshNorms}.
   */
  public float[] keys() {
    return keys;
  }

  /** Class of every key; do not modify. */
  public int[] labels() {
    return labels;
  }

  public int size() {
    return labels.length;
  }

  public float alpha() {
    return alpha;
  }

  public float beta() {
    return beta;
  }

  @Override
  public int dimension() {
    return head.dimension();
  }

  @Override
  public int classCount() {
    return head.classCount();
  }

  /**
   * 1 / |K_k| of every key (0 for a zero key, whose cosine counts as 0); valid after the last
   * {@link #refreshNorms}.
   */
  public float[] inverseNorms() {
    return inverseNorms;
  }

  /** Recomputes the key lengths (and the scoring copy of the keys) after the keys changed. */
  public void refreshNorms() {
    int dimension = head.dimension();
    int size = labels.length;
    for (int k = 0; k < size; k++) {
      double squares = 0;
      for (int j = 0; j < dimension; j++) {
        float v = keys[k * dimension + j];
        squares += (double) v * v;
      }
      float inverse = squares > 0 ? (float) (1 / Math.sqrt(squares)) : 0f;
      inverseNorms[k] = inverse;
      for (int j = 0; j < dimension; j++) {
        unitKeysByDimension[j * size + k] = keys[k * dimension + j] * inverse;
      }
    }
  }

  /**
   * Adds {@code cos(x_r, K_k)} of every key to {@code out[r * size + k]} for the {@code count} rows
   * {@code rows[first..first+count)} of {@code features} (row indices, each {@code dimension}
   * long); {@code out} must start at zero. The inner loop runs over keys, one dimension at a time,
   * so the JIT can vectorise it.
   */
  public void cosines(float[] features, int[] rows, int first, int count, float[] out) {
    int dimension = head.dimension();
    int size = labels.length;
    for (int j = 0; j < dimension; j++) {
      int column = j * size;
      for (int r = 0; r < count; r++) {
        float v = features[rows[first + r] * dimension + j];
        if (v == 0f) {
          continue;
        }
        int base = r * size;
        for (int k = 0; k < size; k++) {
          out[base + k] += v * unitKeysByDimension[column + k];
        }
      }
    }
  }

  /** Writes {@code exp(-beta (1 - cos(x, K_k)))} of every key into {@code out} (length size). */
  public void affinities(float[] features, int offset, double[] out) {
    int dimension = head.dimension();
    int size = labels.length;
    float[] cos = new float[size];
    for (int j = 0; j < dimension; j++) {
      float v = features[offset + j];
      int column = j * size;
      for (int k = 0; k < size; k++) {
        cos[k] += v * unitKeysByDimension[column + k];
      }
    }
    for (int k = 0; k < size; k++) {
      out[k] = Math.exp(-beta * (1 - (double) cos[k]));
    }
  }

  @Override
  public void logits(float[] features, int offset, double[] out) {
    double[] affinity = new double[labels.length];
    logits(features, offset, out, affinity);
  }

  /**
   * As {@link #logits(float[], int, double[])}, also leaving the affinities in {@code affinity}
   * (length size).
   */
  public void logits(float[] features, int offset, double[] out, double[] affinity) {
    head.logits(features, offset, out);
    affinities(features, offset, affinity);
    for (int k = 0; k < labels.length; k++) {
      out[labels[k]] += alpha * affinity[k];
    }
  }
}
