package fedlake.core.train;

import fedlake.core.data.Dataset;
import fedlake.core.model.Head;
import java.util.SplittableRandom;

/**
 * Trains a softmax head on a site's labelled embeddings with minibatch SGD (optional momentum) on
 * cross-entropy. The encoder stays frozen: only W and b change. With a SCAFFOLD correction
 * {@code c - c_i} every step's gradient is shifted by it, which removes the drift of sites whose
 * labels differ from the federation's.
 */
public final class LocalTrainer {
  private LocalTrainer() {}

  /** Progress callback: called after every epoch. */
  @FunctionalInterface
  public interface Progress {
    void epoch(int epoch, int epochs, double meanLoss);

    Progress NONE = (e, n, l) -> {};
  }

  /** Outcome of local training; {@code head} is a trained copy, the input head is unchanged. */
  public record Result(Head head, int steps, double loss, double accuracy) {}

  public static Result train(Head start, Dataset data, TrainSettings settings, Progress progress) {
    return train(start, data, settings, null, progress);
  }

  /**
   * @param correction gradient correction laid out as weights then bias ({@code c - c_i} of SCAFFOLD), or null
   */
  public static Result train(Head start, Dataset data, TrainSettings settings, float[] correction, Progress progress) {
    Head head = start.copy();
    int n = data.size();
    int dimension = head.dimension();
    int classes = head.classCount();
    if (data.dimension() != dimension) {
      throw new IllegalArgumentException("Cannot train: data has dimension " + data.dimension() + ", model expects " + dimension);
    }
    data.requireLabelsBelow(classes);
    float[] x = data.features();
    float[] weights = head.weights();
    float[] bias = head.bias();
    float scale = head.logitScale();
    if (correction != null && correction.length != weights.length + bias.length) {
      throw new IllegalArgumentException("Cannot train: correction has " + correction.length + " values, model has "
          + (weights.length + bias.length) + " parameters");
    }

    double[] adjustment = new double[classes];
    if (settings.balancedLoss()) {
      long[] histogram = data.labelHistogram(classes);
      for (int c = 0; c < classes; c++) {
        adjustment[c] = histogram[c] == 0 ? Double.NEGATIVE_INFINITY : Math.log((double) histogram[c] / n);
      }
    }

    float[] velocityW = new float[weights.length];
    float[] velocityB = new float[classes];
    float[] gradW = new float[weights.length];
    float[] gradB = new float[classes];
    double[] logits = new double[classes];
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    SplittableRandom random = new SplittableRandom(settings.seed());
    int steps = 0;
    float lr = (float) settings.learningRate();
    float momentum = (float) settings.momentum();
    float decay = (float) settings.weightDecay();
    for (int epoch = 0; epoch < settings.epochs(); epoch++) {
      shuffle(order, random);
      double epochLoss = 0;
      for (int start0 = 0; start0 < n; start0 += settings.batchSize()) {
        int end = Math.min(n, start0 + settings.batchSize());
        java.util.Arrays.fill(gradW, 0f);
        java.util.Arrays.fill(gradB, 0f);
        for (int k = start0; k < end; k++) {
          int row = order[k];
          int offset = row * dimension;
          int label = data.label(row);
          head.logits(x, offset, logits);
          double max = Double.NEGATIVE_INFINITY;
          for (int c = 0; c < classes; c++) {
            logits[c] += adjustment[c];
            max = Math.max(max, logits[c]);
          }
          double sum = 0;
          for (int c = 0; c < classes; c++) {
            logits[c] = Math.exp(logits[c] - max);
            sum += logits[c];
          }
          epochLoss += -Math.log(logits[label] / sum);
          for (int c = 0; c < classes; c++) {
            double p = logits[c] / sum;
            float g = (float) (c == label ? p - 1 : p);
            if (g == 0f) {
              continue;
            }
            gradB[c] += g;
            float gs = g * scale;
            int w = c * dimension;
            for (int j = 0; j < dimension; j++) {
              gradW[w + j] += gs * x[offset + j];
            }
          }
        }
        float inverse = 1f / (end - start0);
        for (int i = 0; i < weights.length; i++) {
          float g = gradW[i] * inverse + decay * weights[i] + (correction == null ? 0f : correction[i]);
          velocityW[i] = momentum * velocityW[i] + g;
          weights[i] -= lr * velocityW[i];
        }
        for (int c = 0; c < classes; c++) {
          float g = gradB[c] * inverse + (correction == null ? 0f : correction[weights.length + c]);
          velocityB[c] = momentum * velocityB[c] + g;
          bias[c] -= lr * velocityB[c];
        }
        steps++;
      }
      progress.epoch(epoch + 1, settings.epochs(), epochLoss / n);
    }
    Head.Evaluation evaluation = head.evaluate(data);
    return new Result(head, steps, evaluation.loss(), evaluation.accuracy());
  }

  private static void shuffle(int[] order, SplittableRandom random) {
    for (int i = order.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }
}
