package fedlake.core.train;

import fedlake.core.data.Dataset;
import java.util.SplittableRandom;

/** The parts of minibatch SGD on softmax cross-entropy that the head and cache trainers share. */
final class Sgd {
  private Sgd() {}

  /** Per-class logit offsets: log of the local label prior with the balanced loss, zeros otherwise. */
  static double[] logPrior(Dataset data, int classes, boolean balanced) {
    double[] adjustment = new double[classes];
    if (balanced) {
      long[] histogram = data.labelHistogram(classes);
      for (int c = 0; c < classes; c++) {
        adjustment[c] = histogram[c] == 0 ? Double.NEGATIVE_INFINITY : Math.log((double) histogram[c] / data.size());
      }
    }
    return adjustment;
  }

  /**
   * Adds {@code adjustment} to {@code logits}, turns them into softmax probabilities in place and
   * returns the cross-entropy of {@code label}.
   */
  static double softmax(double[] logits, double[] adjustment, int label) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < logits.length; c++) {
      logits[c] += adjustment[c];
      max = Math.max(max, logits[c]);
    }
    double sum = 0;
    for (int c = 0; c < logits.length; c++) {
      logits[c] = Math.exp(logits[c] - max);
      sum += logits[c];
    }
    for (int c = 0; c < logits.length; c++) {
      logits[c] /= sum;
    }
    return -Math.log(logits[label]);
  }

  /**
   * One momentum step of a head: gradients summed over the batch times {@code inverse} (1 / batch
   * rows), weight decay on the weights only, plus the SCAFFOLD correction (weights then bias) when given.
   */
  static void headStep(float[] weights, float[] bias, float[] gradW, float[] gradB, float[] velocityW, float[] velocityB,
      float inverse, float[] correction, TrainSettings settings) {
    float lr = (float) settings.learningRate();
    float momentum = (float) settings.momentum();
    float decay = (float) settings.weightDecay();
    for (int i = 0; i < weights.length; i++) {
      float g = gradW[i] * inverse + decay * weights[i] + (correction == null ? 0f : correction[i]);
      velocityW[i] = momentum * velocityW[i] + g;
      weights[i] -= lr * velocityW[i];
    }
    for (int c = 0; c < bias.length; c++) {
      float g = gradB[c] * inverse + (correction == null ? 0f : correction[weights.length + c]);
      velocityB[c] = momentum * velocityB[c] + g;
      bias[c] -= lr * velocityB[c];
    }
  }

  /** 0, 1, ..., n - 1. */
  static int[] identity(int n) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    return order;
  }

  /** Fisher-Yates shuffle. */
  static void shuffle(int[] order, SplittableRandom random) {
    for (int i = order.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }
}
