package fedlake.core.client;

import fedlake.core.model.Classifier;
import fedlake.core.model.Head;

/**
 * FedDAT's dual-teacher mutual distillation (Chen et al., AAAI 2024) for a head on embeddings: the
 * parameters are a <em>shared</em> head (averaged by the round job) followed by a <em>local</em>
 * head of the same shape (kept at the site); a <em>frozen</em> copy of the shared head as the round
 * started is held fixed. Per row, with teacher logits {@code t = (local + frozen) / 2}:
 *
 * <ul>
 *   <li>the shared head minimises {@code CE(shared) + ws KL(softmax(t/T) || softmax(shared/T))}
 *   <li>the local head minimises {@code CE(local) + wl KL(softmax(shared/T) || softmax(local/T))}
 * </ul>
 *
 * <p>Each target (the teacher, and the shared head as the local head's target) is a constant for
 * the part that learns from it: the shared part's gradient is that of its own loss only, and the
 * local part's that of its own loss only. {@link #lossAndGradient} returns the two losses summed.
 *
 * <p>Working layout: the shared head's ({@link HeadObjective}: {@code W^T}, then b), then the local
 * head's. Stored layout: the shared head's stored parameters (weights, bias), then the local
 * head's. Weight decay applies to the shared head's weights only.
 */
public final class FedDatObjective implements Objective {
  private final HeadObjective head;
  private final int dimension;
  private final int classes;
  private final int size;
  private final double[] adjustment;
  private final float[] frozen;
  private final Personalisation mode;
  private final double[] p;
  private final double[] q;
  private float[][] shared = new float[0][];
  private float[][] local = new float[0][];
  private float[][] fixed = new float[0][];
  private float[][] teacher = new float[0][];
  private float[][] dShared = new float[0][];
  private float[][] dLocal = new float[0][];

  /**
   * @param frozenShared the shared head as the round started, stored layout
   * @param adjustment per-class offsets added to the logits of both cross-entropies ({@link
   *     HeadObjective#logPrior}), or null
   */
  public FedDatObjective(
      int dimension,
      int classes,
      float logitScale,
      double[] adjustment,
      float[] frozenShared,
      Personalisation mode) {
    this.head = new HeadObjective(dimension, classes, logitScale, null);
    this.dimension = dimension;
    this.classes = classes;
    this.size = head.parameterCount();
    if (adjustment != null && adjustment.length != classes) {
      throw new IllegalArgumentException(
          "Logit adjustment has " + adjustment.length + " values for " + classes + " classes");
    }
    this.adjustment = adjustment;
    this.frozen = head.pack(frozenShared);
    this.mode = java.util.Objects.requireNonNull(mode, "mode");
    this.p = new double[classes];
    this.q = new double[classes];
  }

  /** Parameters of one head (shared or local). */
  public int headSize() {
    return size;
  }

  @Override
  public int parameterCount() {
    return 2 * size;
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
    check(stored.length);
    float[] working = new float[2 * size];
    System.arraycopy(head.pack(java.util.Arrays.copyOfRange(stored, 0, size)), 0, working, 0, size);
    System.arraycopy(
        head.pack(java.util.Arrays.copyOfRange(stored, size, 2 * size)), 0, working, size, size);
    return working;
  }

  @Override
  public float[] unpack(float[] working) {
    check(working.length);
    float[] stored = new float[2 * size];
    System.arraycopy(
        head.unpack(java.util.Arrays.copyOfRange(working, 0, size)), 0, stored, 0, size);
    System.arraycopy(
        head.unpack(java.util.Arrays.copyOfRange(working, size, 2 * size)), 0, stored, size, size);
    return stored;
  }

  private void check(int length) {
    if (length != 2 * size) {
      throw new IllegalArgumentException(
          "FedDAT on a head of "
              + classes
              + " x "
              + dimension
              + " has "
              + 2 * size
              + " parameters (shared and local head), got "
              + length);
    }
  }

  @Override
  public double lossAndGradient(float[] parameters, Batch batch, float[] gradient) {
    int count = batch.count();
    ensure(count);
    head.forward(parameters, 0, batch, shared);
    head.forward(parameters, size, batch, local);
    head.forward(frozen, 0, batch, fixed);
    for (int r = 0; r < count; r++) {
      float[] t = teacher[r];
      float[] l = local[r];
      float[] f = fixed[r];
      for (int c = 0; c < classes; c++) {
        t[c] = 0.5f * (l[c] + f[c]);
      }
    }
    float weight = 1f / count;
    double[] row = p;
    double loss =
        Kernels.softmaxCrossEntropy(
            shared, count, classes, adjustment, batch.labels(), weight, row, dShared);
    loss +=
        Kernels.softmaxCrossEntropy(
            local, count, classes, adjustment, batch.labels(), weight, row, dLocal);
    double t = mode.temperature();
    loss +=
        Distillation.softKl(
            teacher, shared, count, classes, t, mode.sharedWeight(), weight, p, q, dShared);
    loss +=
        Distillation.softKl(
            shared, local, count, classes, t, mode.localWeight(), weight, p, q, dLocal);
    head.backward(batch, dShared, gradient, 0);
    head.backward(batch, dLocal, gradient, size);
    return loss;
  }

  private void ensure(int count) {
    if (shared.length < count) {
      shared = Kernels.rows(count, classes);
      local = Kernels.rows(count, classes);
      fixed = Kernels.rows(count, classes);
      teacher = Kernels.rows(count, classes);
      dShared = Kernels.rows(count, classes);
      dLocal = Kernels.rows(count, classes);
    }
  }

  /** The personalised model of stored-layout parameters: {@link PersonalHead} of both heads. */
  @Override
  public Classifier classifier(float[] stored) {
    check(stored.length);
    return new PersonalHead(
        (Head) head.classifier(java.util.Arrays.copyOfRange(stored, 0, size)),
        (Head) head.classifier(java.util.Arrays.copyOfRange(stored, size, 2 * size)));
  }
}
