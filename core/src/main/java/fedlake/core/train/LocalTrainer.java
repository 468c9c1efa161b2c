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

    double[] adjustment = Sgd.logPrior(data, classes, settings.balancedLoss());

    float[] velocityW = new float[weights.length];
    float[] velocityB = new float[classes];
    float[] gradW = new float[weights.length];
    float[] gradB = new float[classes];
    double[] logits = new double[classes];
    int[] order = Sgd.identity(n);
    SplittableRandom random = new SplittableRandom(settings.seed());
    int steps = 0;
    for (int epoch = 0; epoch < settings.epochs(); epoch++) {
      Sgd.shuffle(order, random);
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
          epochLoss += Sgd.softmax(logits, adjustment, label);
          for (int c = 0; c < classes; c++) {
            double p = logits[c];
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
        Sgd.headStep(weights, bias, gradW, gradB, velocityW, velocityB, 1f / (end - start0), correction, settings);
        steps++;
      }
      progress.epoch(epoch + 1, settings.epochs(), epochLoss / n);
    }
    Head.Evaluation evaluation = head.evaluate(data);
    return new Result(head, steps, evaluation.loss(), evaluation.accuracy());
  }
}
