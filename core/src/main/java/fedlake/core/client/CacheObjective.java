package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Classifier;
import fedlake.core.model.Head;

/**
 * Tip-Adapter-F: softmax cross-entropy of a cache model's logits {@code logitScale * W x + b +
 * alpha * sum_k exp(-beta (1 - cos(x, K_k))) onehot(label_k)}, trained in the keys K (alpha, beta
 * and the key labels stay fixed) and, optionally, in the head part.
 *
 * <p>The gradient for key k of class c, with {@code cos_k = x . K_k / |K_k|} and {@code a_k =
 * exp(-beta (1 - cos_k))}, is {@code dL/dz_c * alpha * beta * a_k * (x - cos_k K_k / |K_k|) /
 * |K_k|}: only the part of x orthogonal to the key turns it.
 *
 * <p>Working layout: the head's ({@code W^T}, b, as {@link HeadObjective}), then the keys
 * transposed ({@code dimension x size}), so cosines and key gradients run as the same contiguous
 * row updates as the head's.
 */
public final class CacheObjective implements Objective {
  /**
   * Whether sites train the head part of a cache model too (see docs/cache.md for the measurements
   * behind it).
   */
  public static final boolean TRAIN_HEAD = false;

  private final int dimension;
  private final int classes;
  private final int size;
  private final int[] keyLabels;
  private final float alpha;
  private final float beta;
  private final float logitScale;
  private final boolean trainHead;
  private final double[] adjustment;
  private final HeadObjective head;
  private final int keyOffset;
  private final float[] squares;
  private final float[] inverseNorms;
  private final float[] shrink;
  private final double[] row;
  private float[][] logits = new float[0][];
  private float[][] dLogits = new float[0][];
  private float[][] cosines = new float[0][];
  private float[][] keyGradients = new float[0][];
  private final float[][] scratch;
  private final float[] accumulator;

  /**
   * @param shape the cache whose shape, key labels, alpha and beta to train with (its parameters
   *     are not read)
   * @param trainHead also train the head part; false is Tip-Adapter-F
   * @param adjustment per-class offsets added to the logits while training, or null
   */
  public CacheObjective(CacheModel shape, boolean trainHead, double[] adjustment) {
    Head h = shape.head();
    this.dimension = h.dimension();
    this.classes = h.classCount();
    this.size = shape.size();
    this.keyLabels = shape.labels().clone();
    this.alpha = shape.alpha();
    this.beta = shape.beta();
    this.logitScale = h.logitScale();
    this.trainHead = trainHead;
    this.adjustment = adjustment;
    this.head = new HeadObjective(dimension, classes, logitScale, null);
    this.keyOffset = classes * dimension + classes;
    this.squares = new float[size];
    this.inverseNorms = new float[size];
    this.shrink = new float[size];
    this.row = new double[classes];
    this.scratch = Kernels.rows(4, size);
    this.accumulator = new float[size];
  }

  /** The objective of training {@code cache}'s keys (and head part when asked) on {@code data}. */
  public static CacheObjective of(
      CacheModel cache, Dataset data, boolean trainHead, boolean balancedLoss) {
    return new CacheObjective(
        cache, trainHead, balancedLoss ? HeadObjective.logPrior(data, cache.classCount()) : null);
  }

  @Override
  public int parameterCount() {
    return keyOffset + size * dimension;
  }

  @Override
  public int trainableFrom() {
    return trainHead ? 0 : keyOffset;
  }

  @Override
  public int decayedTo() {
    return classes * dimension;
  }

  @Override
  public float[] pack(float[] stored) {
    checkLength(stored.length, "stored");
    float[] working = new float[stored.length];
    System.arraycopy(
        head.pack(java.util.Arrays.copyOf(stored, keyOffset)), 0, working, 0, keyOffset);
    Kernels.transpose(stored, keyOffset, size, dimension, working, keyOffset);
    return working;
  }

  @Override
  public float[] unpack(float[] working) {
    checkLength(working.length, "working");
    float[] stored = new float[working.length];
    System.arraycopy(
        head.unpack(java.util.Arrays.copyOf(working, keyOffset)), 0, stored, 0, keyOffset);
    Kernels.transpose(working, keyOffset, dimension, size, stored, keyOffset);
    return stored;
  }

  private void checkLength(int length, String what) {
    if (length != parameterCount()) {
      throw new IllegalArgumentException(
          "A cache of "
              + size
              + " keys over a "
              + classes
              + " x "
              + dimension
              + " head has "
              + parameterCount()
              + " parameters, got "
              + length
              + " ("
              + what
              + " layout)");
    }
  }

  @Override
  public double lossAndGradient(float[] parameters, Batch batch, float[] gradient) {
    int count = batch.count();
    ensure(count);
    float[] x = batch.features();
    // key lengths: the keys are stored transposed, so accumulate one dimension (a row over all
    // keys) at a time
    java.util.Arrays.fill(squares, 0f);
    float[] key = scratch[0];
    for (int j = 0; j < dimension; j++) {
      System.arraycopy(parameters, keyOffset + j * size, key, 0, size);
      for (int k = 0; k < size; k++) {
        squares[k] += key[k] * key[k];
      }
    }
    for (int k = 0; k < size; k++) {
      inverseNorms[k] = squares[k] > 0 ? (float) (1 / Math.sqrt(squares[k])) : 0f;
    }
    // cos[r][k] = (x_r . K_k) / |K_k|, then affinities a_rk = exp(-beta (1 - cos)) into the logits
    // of class label_k
    for (int r = 0; r < count; r++) {
      java.util.Arrays.fill(cosines[r], 0f);
    }
    Kernels.multiplyAdd(x, count, dimension, 1f, parameters, keyOffset, size, cosines, scratch);
    head.forward(parameters, 0, batch, logits);
    for (int r = 0; r < count; r++) {
      float[] cos = cosines[r];
      float[] affinity = keyGradients[r];
      float[] z = logits[r];
      for (int k = 0; k < size; k++) {
        cos[k] *= inverseNorms[k];
        float a = (float) Math.exp(-beta * (1 - (double) cos[k]));
        affinity[k] = a;
        z[keyLabels[k]] += alpha * a;
      }
    }
    double loss =
        Kernels.softmaxCrossEntropy(
            logits, count, classes, adjustment, batch.labels(), 1f / count, row, dLogits);
    // G[r][k] = dL/dz[r][label_k] * alpha * beta * a_rk / |K_k|; dL/dK_k = sum_r G[r][k] x_r -
    // (sum_r G[r][k] cos_rk) K_k / |K_k|
    java.util.Arrays.fill(shrink, 0f);
    float alphaBeta = alpha * beta;
    for (int r = 0; r < count; r++) {
      float[] g = keyGradients[r];
      float[] d = dLogits[r];
      float[] cos = cosines[r];
      for (int k = 0; k < size; k++) {
        float v = d[keyLabels[k]] * alphaBeta * g[k] * inverseNorms[k];
        g[k] = v;
        shrink[k] += v * cos[k] * inverseNorms[k];
      }
    }
    Kernels.transposeTimes(
        x, count, dimension, keyGradients, size, gradient, keyOffset, accumulator);
    for (int j = 0; j < dimension; j++) {
      int o = keyOffset + j * size;
      System.arraycopy(parameters, o, key, 0, size);
      System.arraycopy(gradient, o, accumulator, 0, size);
      for (int k = 0; k < size; k++) {
        accumulator[k] -= shrink[k] * key[k];
      }
      System.arraycopy(accumulator, 0, gradient, o, size);
    }
    if (trainHead) {
      head.backward(batch, dLogits, gradient, 0);
    }
    return loss;
  }

  private void ensure(int count) {
    if (logits.length < count) {
      logits = Kernels.rows(count, classes);
      dLogits = Kernels.rows(count, classes);
      cosines = Kernels.rows(count, size);
      keyGradients = Kernels.rows(count, size);
    }
  }

  @Override
  public Classifier classifier(float[] stored) {
    checkLength(stored.length, "stored");
    Head h = (Head) head.classifier(java.util.Arrays.copyOf(stored, keyOffset));
    return new CacheModel(
        h,
        java.util.Arrays.copyOfRange(stored, keyOffset, stored.length),
        keyLabels.clone(),
        alpha,
        beta);
  }
}
