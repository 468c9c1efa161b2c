package fedlake.core.train;

import fedlake.core.data.Dataset;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Tip-Adapter-F on a site: minibatch SGD on cross-entropy over the cache model's logits, moving the
 * cache keys (the values, alpha and beta stay fixed), with the settings of {@link LocalTrainer}
 * (epochs, batch size, learning rate, momentum, seed, balanced loss). Optionally the head part is
 * trained too. Weight decay applies to head weights only: pulling keys toward zero would not
 * regularise a cosine affinity.
 *
 * <p>The gradient of the loss L for key k of class c, with {@code cos_k = x . K_k / |K_k|} and
 * {@code a_k = exp(-beta (1 - cos_k))}, is {@code dL/dz_c * alpha * beta * a_k * (x - cos_k K_k/|K_k|) / |K_k|}:
 * only the part of x orthogonal to the key turns it, its length stays (nearly) the same.
 */
public final class CacheTrainer {
  /** Whether sites train the head part of a cache model too (see docs/cache.md for the measurements behind it). */
  public static final boolean TRAIN_HEAD = false;

  private CacheTrainer() {}

  /** Outcome of local training; {@code model} is a trained copy, the input model is unchanged. */
  public record Result(CacheModel model, int steps, double loss, double accuracy) {}

  /**
   * @param trainHead also train the head part (weights and bias); false is Tip-Adapter-F
   * @param correction SCAFFOLD correction {@code c - c_i} laid out as weights, bias, keys, or null
   */
  public static Result train(CacheModel start, Dataset data, TrainSettings settings, boolean trainHead, float[] correction,
      LocalTrainer.Progress progress) {
    CacheModel model = start.copy();
    Head head = model.head();
    int n = data.size();
    int dimension = model.dimension();
    int classes = model.classCount();
    int size = model.size();
    if (data.dimension() != dimension) {
      throw new IllegalArgumentException("Cannot train: data has dimension " + data.dimension() + ", model expects " + dimension);
    }
    data.requireLabelsBelow(classes);
    float[] x = data.features();
    float[] weights = head.weights();
    float[] bias = head.bias();
    float[] keys = model.keys();
    int[] keyLabels = model.labels();
    float[] inverseNorms = model.inverseNorms();
    int keyOffset = weights.length + bias.length;
    if (correction != null && correction.length != keyOffset + keys.length) {
      throw new IllegalArgumentException("Cannot train: correction has " + correction.length + " values, model has "
          + (keyOffset + keys.length) + " parameters");
    }
    double[] adjustment = Sgd.logPrior(data, classes, settings.balancedLoss());
    float scale = head.logitScale();
    float alpha = model.alpha();
    float beta = model.beta();
    int batchSize = settings.batchSize();
    float[] gradW = trainHead ? new float[weights.length] : null;
    float[] gradB = trainHead ? new float[classes] : null;
    float[] velocityW = trainHead ? new float[weights.length] : null;
    float[] velocityB = trainHead ? new float[classes] : null;
    float[] gradK = new float[keys.length];
    float[] velocityK = new float[keys.length];
    // per step: cosines and affinities of every (row, key), and dL/dz of every (row, class)
    float[] cosine = new float[batchSize * size];
    double[] affinity = new double[batchSize * size];
    double[] dLogits = new double[batchSize * classes];
    double[] logits = new double[classes];
    int[] order = Sgd.identity(n);
    SplittableRandom random = new SplittableRandom(settings.seed());
    int steps = 0;
    float lr = (float) settings.learningRate();
    float momentum = (float) settings.momentum();
    for (int epoch = 0; epoch < settings.epochs(); epoch++) {
      Sgd.shuffle(order, random);
      double epochLoss = 0;
      for (int first = 0; first < n; first += batchSize) {
        int rows = Math.min(n, first + batchSize) - first;
        Arrays.fill(cosine, 0f);
        model.cosines(x, order, first, rows, cosine);
        for (int i = 0; i < rows * size; i++) {
          affinity[i] = Math.exp(-beta * (1 - (double) cosine[i]));
        }
        for (int r = 0; r < rows; r++) {
          int row = order[first + r];
          int label = data.label(row);
          head.logits(x, row * dimension, logits);
          for (int k = 0; k < size; k++) {
            logits[keyLabels[k]] += alpha * affinity[r * size + k];
          }
          epochLoss += Sgd.softmax(logits, adjustment, label);
          for (int c = 0; c < classes; c++) {
            dLogits[r * classes + c] = logits[c] - (c == label ? 1 : 0);
          }
        }
        // backward: dL/dK_k = sum_r dL/dz_{label_k} * alpha * beta * a_rk * (x_r - cos_rk K_k / |K_k|) / |K_k|
        float inverseRows = 1f / rows;
        for (int k = 0; k < size; k++) {
          int w = k * dimension;
          int c = keyLabels[k];
          float inverse = inverseNorms[k];
          Arrays.fill(gradK, w, w + dimension, 0f);
          double shrink = 0;
          for (int r = 0; r < rows; r++) {
            double g = dLogits[r * classes + c] * alpha * beta * affinity[r * size + k] * inverse;
            if (g == 0) {
              continue;
            }
            shrink += g * cosine[r * size + k] * inverse;
            float gf = (float) g;
            int offset = order[first + r] * dimension;
            for (int j = 0; j < dimension; j++) {
              gradK[w + j] += gf * x[offset + j];
            }
          }
          float s = (float) shrink;
          for (int j = 0; j < dimension; j++) {
            int i = w + j;
            gradK[i] = (gradK[i] - s * keys[i]) * inverseRows + (correction == null ? 0f : correction[keyOffset + i]);
          }
        }
        if (trainHead) {
          Arrays.fill(gradW, 0f);
          Arrays.fill(gradB, 0f);
          for (int r = 0; r < rows; r++) {
            int offset = order[first + r] * dimension;
            for (int c = 0; c < classes; c++) {
              float g = (float) dLogits[r * classes + c];
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
          Sgd.headStep(weights, bias, gradW, gradB, velocityW, velocityB, inverseRows, correction, settings);
        }
        for (int i = 0; i < keys.length; i++) {
          velocityK[i] = momentum * velocityK[i] + gradK[i];
          keys[i] -= lr * velocityK[i];
        }
        model.refreshNorms();
        steps++;
      }
      progress.epoch(epoch + 1, settings.epochs(), epochLoss / n);
    }
    fedlake.core.model.Head.Evaluation evaluation = model.evaluate(data);
    return new Result(model, steps, evaluation.loss(), evaluation.accuracy());
  }
}
