package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.model.Classifier;
import fedlake.core.model.Head;

/**
 * Softmax cross-entropy of a head, {@code logits = logitScale * W x + b}, optionally with the
 * balanced loss (log of the local class prior added to the logits, so classes absent locally take
 * no gradient).
 *
 * <p>Working layout: {@code W^T} ({@code dimension x classes}, row-major), then b. The forward pass
 * adds {@code scale * x[r][j] * W^T[j][:]} into the logits of every row of the block, the backward
 * pass writes {@code sum_r x[r][j] * dL/dz[r][:]} into gradient row j: both contiguous over
 * classes.
 */
public final class HeadObjective implements Objective {
  private final int dimension;
  private final int classes;
  private final float logitScale;
  private final double[] adjustment;
  private float[][] logits = new float[0][];
  private float[][] dLogits = new float[0][];
  private final double[] row;
  private final float[][] scratch;
  private final float[] accumulator;

  /**
   * @param adjustment per-class offsets added to the logits while training ({@link #logPrior}), or
   *     null
   */
  public HeadObjective(int dimension, int classes, float logitScale, double[] adjustment) {
    if (dimension <= 0 || classes <= 0) {
      throw new IllegalArgumentException(
          "A head needs positive dimension and class count, got " + dimension + " x " + classes);
    }
    if (adjustment != null && adjustment.length != classes) {
      throw new IllegalArgumentException(
          "Logit adjustment has " + adjustment.length + " values for " + classes + " classes");
    }
    this.dimension = dimension;
    this.classes = classes;
    this.logitScale = logitScale;
    this.adjustment = adjustment;
    this.row = new double[classes];
    this.scratch = Kernels.rows(4, classes);
    this.accumulator = new float[classes];
  }

  /** The objective of training {@code head}'s shape on {@code data}, balanced or not. */
  public static HeadObjective of(Head head, Dataset data, boolean balancedLoss) {
    return new HeadObjective(
        head.dimension(),
        head.classCount(),
        head.logitScale(),
        balancedLoss ? logPrior(data, head.classCount()) : null);
  }

  /** Log of the local label prior of every class, minus infinity for classes absent locally. */
  public static double[] logPrior(Dataset data, int classes) {
    double[] adjustment = new double[classes];
    long[] histogram = data.labelHistogram(classes);
    for (int c = 0; c < classes; c++) {
      adjustment[c] =
          histogram[c] == 0
              ? Double.NEGATIVE_INFINITY
              : Math.log((double) histogram[c] / data.size());
    }
    return adjustment;
  }

  @Override
  public int parameterCount() {
    return classes * dimension + classes;
  }

  @Override
  public int trainableFrom() {
    return 0;
  }

  @Override
  public int decayedTo() {
    return classes * dimension;
  }

  @Override
  public float[] pack(float[] stored) {
    checkLength(stored.length, "stored");
    float[] working = new float[stored.length];
    Kernels.transpose(stored, 0, classes, dimension, working, 0);
    System.arraycopy(stored, classes * dimension, working, classes * dimension, classes);
    return working;
  }

  @Override
  public float[] unpack(float[] working) {
    checkLength(working.length, "working");
    float[] stored = new float[working.length];
    Kernels.transpose(working, 0, dimension, classes, stored, 0);
    System.arraycopy(working, classes * dimension, stored, classes * dimension, classes);
    return stored;
  }

  private void checkLength(int length, String what) {
    if (length != parameterCount()) {
      throw new IllegalArgumentException(
          "A head of "
              + classes
              + " x "
              + dimension
              + " has "
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
    return lossAndGradient(parameters, batch, gradient, null);
  }

  /**
   * Forward pass, softmax, then the bias gradient and the weight gradient {@link
   * Kernels#READY_ROWS} rows of {@code W^T} at a time, each handed to {@code ready} (unless null)
   * as soon as it is written.
   */
  @Override
  public double lossAndGradient(float[] parameters, Batch batch, float[] gradient, Ready ready) {
    int count = batch.count();
    ensure(count);
    forward(parameters, 0, batch, logits);
    double loss =
        Kernels.VECTOR && adjustment == null
            ? VectorKernels.softmaxCrossEntropy(
                logits, count, classes, batch.labels(), 1f / count, dLogits)
            : Kernels.softmaxCrossEntropy(
                logits, count, classes, adjustment, batch.labels(), 1f / count, row, dLogits);
    backward(batch, dLogits, gradient, 0, ready);
    return loss;
  }

  /**
   * Head logits of the batch rows into {@code out} ({@code count x classes}); the head's parameters
   * start at {@code offset}.
   */
  void forward(float[] parameters, int offset, Batch batch, float[][] out) {
    Kernels.fillRows(out, batch.count(), classes, parameters, offset + classes * dimension);
    Kernels.multiplyAdd(
        batch.features(),
        batch.count(),
        dimension,
        logitScale,
        parameters,
        offset,
        classes,
        out,
        scratch);
  }

  /**
   * Writes the head's gradient for {@code dLogits} (of the mean loss) at {@code offset} of {@code
   * gradient}.
   */
  void backward(Batch batch, float[][] dLogits, float[] gradient, int offset) {
    backward(batch, dLogits, gradient, offset, null);
  }

  /** As above, handing finished ranges of the gradient to {@code ready} unless it is null. */
  void backward(Batch batch, float[][] dLogits, float[] gradient, int offset, Ready ready) {
    int count = batch.count();
    int bias = offset + classes * dimension;
    Kernels.columnSums(dLogits, count, classes, gradient, bias, accumulator);
    if (ready != null) {
      ready.accept(bias, bias + classes);
    }
    // dL/dW^T[j][c] = scale * sum_r x[r][j] dL/dz[r][c]: the scale goes into dL/dz (count x
    // classes), not the gradient
    for (int r = 0; r < count; r++) {
      float[] d = dLogits[r];
      for (int c = 0; c < classes; c++) {
        d[c] *= logitScale;
      }
    }
    Kernels.transposeTimes(
        batch.features(), count, dimension, dLogits, classes, gradient, offset, accumulator, ready);
  }

  private void ensure(int count) {
    if (logits.length < count) {
      logits = Kernels.rows(count, classes);
      dLogits = Kernels.rows(count, classes);
    }
  }

  @Override
  public Classifier classifier(float[] stored) {
    checkLength(stored.length, "stored");
    return new Head(
        dimension,
        classes,
        logitScale,
        java.util.Arrays.copyOf(stored, classes * dimension),
        java.util.Arrays.copyOfRange(stored, classes * dimension, stored.length));
  }
}
