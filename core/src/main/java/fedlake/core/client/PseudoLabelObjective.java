package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.model.Classifier;

/**
 * The objective of a site training a head without labels (docs/unlabeled.md), in the working layout
 * of {@link HeadObjective} ({@code W^T}, then b). Per batch of {@code n} rows and {@code m}
 * text-Gaussian samples {@code (s_k, y_k)}:
 *
 * <pre>
 * L = 1/n sum_r a_r CE(t_r, p_r)                  soft-label cross-entropy of the selected rows
 *   + synthWeight / m sum_k CE(onehot(y_k), p(s_k)) class-balanced text-Gaussian samples
 *   + balance / n sum_r sum_c -log p_rc            class balance, on the bias only
 *   + trust / 2 |W - W_0|^2                        trust in the zero-shot head
 * </pre>
 *
 * where {@code p = softmax(logitScale W x + b)}, {@code t_r} is row r's target (a sharpened soft
 * pseudo-label), {@code a_r} its weight (1 when selected, else 0). The balance term's gradient is
 * taken with respect to b alone ({@code W} is held fixed in it): {@code balance (C p_rc - 1)}
 * averaged over the batch, zero exactly when the batch's mean prediction is uniform; summed over
 * sites by the round it pulls the federation's mean prediction toward uniform, a prior correction
 * of the zero-shot head.
 *
 * <p>Rows are identified by the batch's labels: train on {@link #indexed(Dataset)}, whose label of
 * row {@code i} is {@code i}, so the objective finds each row's target.
 */
public final class PseudoLabelObjective implements Objective {
  private final HeadObjective head;
  private final int dimension;
  private final int classes;
  private final float[] targets;
  private final float[] rowWeights;
  private final double balance;
  private final double synthWeight;
  private final Dataset synthetic;
  private final int synthPerBatch;
  private final double trust;
  private final float[] anchor;
  private final Batch synthBatch;
  private final int[] synthOrder;
  private int synthCursor;
  private float[][] logits = new float[0][];
  private float[][] dLogits = new float[0][];
  private final double[] row;
  private final float[] scratchGradient;

  /**
   * @param targets row-major {@code rows x classes} soft targets, each row summing to 1
   * @param rowWeights per row, the weight of its cross-entropy (0: not selected)
   * @param synthetic labelled text-Gaussian samples, cycled through in their order, or null
   * @param anchor the zero-shot head in the stored layout ({@link
   *     fedlake.core.model.Models#parameters}), read when {@code trust > 0}
   */
  public PseudoLabelObjective(
      int dimension,
      int classes,
      float logitScale,
      float[] targets,
      float[] rowWeights,
      double balance,
      double synthWeight,
      Dataset synthetic,
      int synthPerBatch,
      double trust,
      float[] anchor) {
    this.head = new HeadObjective(dimension, classes, logitScale, null);
    this.dimension = dimension;
    this.classes = classes;
    if (targets.length != (long) rowWeights.length * classes) {
      throw new IllegalArgumentException(
          "Soft targets hold "
              + targets.length
              + " values for "
              + rowWeights.length
              + " rows x "
              + classes
              + " classes");
    }
    this.targets = targets;
    this.rowWeights = rowWeights;
    this.balance = balance;
    boolean synth = synthWeight > 0 && synthPerBatch > 0 && synthetic != null;
    if (synth && (synthetic.size() == 0 || synthetic.dimension() != dimension)) {
      throw new IllegalArgumentException(
          "Text-Gaussian samples must be non-empty rows of dimension " + dimension);
    }
    this.synthWeight = synth ? synthWeight : 0;
    this.synthetic = synth ? synthetic : null;
    this.synthPerBatch = synth ? Math.min(synthPerBatch, synthetic.size()) : 0;
    this.synthBatch = synth ? new Batch(this.synthPerBatch, dimension) : null;
    this.synthOrder = synth ? LocalTraining.identity(synthetic.size()) : null;
    this.trust = trust;
    this.anchor = trust > 0 ? head.pack(anchor) : null;
    this.row = new double[classes];
    this.scratchGradient = new float[head.parameterCount()];
  }

  /** The rows of {@code data} labelled by their index, for training with this objective. */
  public static Dataset indexed(Dataset data) {
    return Dataset.of(
        data.source(), data.features(), LocalTraining.identity(data.size()), data.dimension());
  }

  @Override
  public int parameterCount() {
    return head.parameterCount();
  }

  @Override
  public int trainableFrom() {
    return 0;
  }

  @Override
  public int decayedTo() {
    return head.decayedTo();
  }

  @Override
  public float[] pack(float[] stored) {
    return head.pack(stored);
  }

  @Override
  public float[] unpack(float[] working) {
    return head.unpack(working);
  }

  @Override
  public Classifier classifier(float[] stored) {
    return head.classifier(stored);
  }

  @Override
  public double lossAndGradient(float[] parameters, Batch batch, float[] gradient) {
    int count = batch.count();
    ensure(Math.max(count, synthPerBatch));
    head.forward(parameters, 0, batch, logits);
    int[] index = batch.labels();
    double loss = 0;
    double[] biasShift = balance > 0 ? new double[classes] : null;
    for (int r = 0; r < count; r++) {
      softmax(logits[r]);
      int i = index[r];
      if (i < 0 || i >= rowWeights.length) {
        throw new IllegalArgumentException(
            "Row index " + i + " outside the " + rowWeights.length + " rows with soft targets");
      }
      float a = rowWeights[i];
      int t = i * classes;
      float[] d = dLogits[r];
      for (int c = 0; c < classes; c++) {
        double p = row[c];
        double target = targets[t + c];
        if (a != 0 && target > 0) {
          loss -= a * target * Math.log(Math.max(p, 1e-300));
        }
        d[c] = (float) (a * (p - target) / count);
        if (biasShift != null) {
          loss -= balance * Math.log(Math.max(p, 1e-300));
          biasShift[c] += balance * (classes * p - 1) / count;
        }
      }
    }
    head.backward(batch, dLogits, gradient, 0);
    int biasAt = classes * dimension;
    if (biasShift != null) {
      for (int c = 0; c < classes; c++) {
        gradient[biasAt + c] += (float) biasShift[c];
      }
    }
    if (synthWeight > 0) {
      if (synthCursor + synthPerBatch > synthOrder.length) {
        synthCursor = 0;
      }
      synthBatch.fill(synthetic, synthOrder, synthCursor, synthPerBatch);
      synthCursor += synthPerBatch;
      head.forward(parameters, 0, synthBatch, logits);
      int[] labels = synthBatch.labels();
      double synthLoss = 0;
      for (int k = 0; k < synthPerBatch; k++) {
        softmax(logits[k]);
        float[] d = dLogits[k];
        for (int c = 0; c < classes; c++) {
          d[c] = (float) (synthWeight * (c == labels[k] ? row[c] - 1 : row[c]) / synthPerBatch);
        }
        synthLoss -= Math.log(Math.max(row[labels[k]], 1e-300));
      }
      loss += synthWeight * synthLoss * count / synthPerBatch;
      head.backward(synthBatch, dLogits, scratchGradient, 0);
      for (int j = 0; j < gradient.length; j++) {
        gradient[j] += scratchGradient[j];
      }
    }
    if (trust > 0) {
      double squares = 0;
      float tr = (float) trust;
      for (int j = 0; j < biasAt; j++) {
        float diff = parameters[j] - anchor[j];
        squares += (double) diff * diff;
        gradient[j] += tr * diff;
      }
      loss += count * trust / 2 * squares;
    }
    return loss;
  }

  /** Softmax of one row of logits into {@link #row}, in double. */
  private void softmax(float[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < classes; c++) {
      max = Math.max(max, z[c]);
    }
    double sum = 0;
    for (int c = 0; c < classes; c++) {
      double e = Math.exp(z[c] - max);
      row[c] = e;
      sum += e;
    }
    for (int c = 0; c < classes; c++) {
      row[c] /= sum;
    }
  }

  private void ensure(int count) {
    if (logits.length < count) {
      logits = Kernels.rows(count, classes);
      dLogits = Kernels.rows(count, classes);
    }
  }
}
