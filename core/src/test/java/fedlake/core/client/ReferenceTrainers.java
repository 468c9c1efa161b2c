package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The trainers as they were before the client seam (one example at a time, gradients in the stored
 * layout), kept verbatim as a reference: the batched objectives must reproduce their parameters up
 * to float rounding.
 */
final class ReferenceTrainers {
  private ReferenceTrainers() {}

  record HeadResult(Head head, int steps, double loss, double accuracy) {}

  record CacheResult(CacheModel model, int steps, double loss, double accuracy) {}

  private static final class Sgd {

    /**
     * Per-class logit offsets: log of the local label prior with the balanced loss, zeros
     * otherwise.
     */
    static double[] logPrior(Dataset data, int classes, boolean balanced) {
      double[] adjustment = new double[classes];
      if (balanced) {
        long[] histogram = data.labelHistogram(classes);
        for (int c = 0; c < classes; c++) {
          adjustment[c] =
              histogram[c] == 0
                  ? Double.NEGATIVE_INFINITY
                  : Math.log((double) histogram[c] / data.size());
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
     * rows), weight decay on the weights only, plus the SCAFFOLD correction (weights then bias)
     * when given.
     */
    static void headStep(
        float[] weights,
        float[] bias,
        float[] gradW,
        float[] gradB,
        float[] velocityW,
        float[] velocityB,
        float inverse,
        float[] correction,
        TrainSettings settings) {
      float lr = (float) settings.learningRate();
      float momentum = (float) settings.momentum();
      float decay = (float) settings.weightDecay();
      for (int i = 0; i < weights.length; i++) {
        float g =
            gradW[i] * inverse + decay * weights[i] + (correction == null ? 0f : correction[i]);
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

  static HeadResult trainHead(
      Head start,
      Dataset data,
      TrainSettings settings,
      float[] correction,
      LocalTrainer.Progress progress) {
    Head head = start.copy();
    int n = data.size();
    int dimension = head.dimension();
    int classes = head.classCount();
    if (data.dimension() != dimension) {
      throw new IllegalArgumentException(
          "Cannot train: data has dimension " + data.dimension() + ", model expects " + dimension);
    }
    data.requireLabelsBelow(classes);
    float[] x = data.features();
    float[] weights = head.weights();
    float[] bias = head.bias();
    float scale = head.logitScale();
    if (correction != null && correction.length != weights.length + bias.length) {
      throw new IllegalArgumentException(
          "Cannot train: correction has "
              + correction.length
              + " values, model has "
              + (weights.length + bias.length)
              + " parameters");
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
        Sgd.headStep(
            weights,
            bias,
            gradW,
            gradB,
            velocityW,
            velocityB,
            1f / (end - start0),
            correction,
            settings);
        steps++;
      }
      progress.epoch(epoch + 1, settings.epochs(), epochLoss / n);
    }
    Head.Evaluation evaluation = head.evaluate(data);
    return new HeadResult(head, steps, evaluation.loss(), evaluation.accuracy());
  }

  static CacheResult trainCache(
      CacheModel start,
      Dataset data,
      TrainSettings settings,
      boolean trainHead,
      float[] correction,
      LocalTrainer.Progress progress) {
    CacheModel model = start.copy();
    Head head = model.head();
    int n = data.size();
    int dimension = model.dimension();
    int classes = model.classCount();
    int size = model.size();
    if (data.dimension() != dimension) {
      throw new IllegalArgumentException(
          "Cannot train: data has dimension " + data.dimension() + ", model expects " + dimension);
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
      throw new IllegalArgumentException(
          "Cannot train: correction has "
              + correction.length
              + " values, model has "
              + (keyOffset + keys.length)
              + " parameters");
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
        // backward: dL/dK_k = sum_r dL/dz_{label_k} * alpha * beta * a_rk * (x_r - cos_rk K_k /
        // |K_k|) / |K_k|
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
            gradK[i] =
                (gradK[i] - s * keys[i]) * inverseRows
                    + (correction == null ? 0f : correction[keyOffset + i]);
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
          Sgd.headStep(
              weights, bias, gradW, gradB, velocityW, velocityB, inverseRows, correction, settings);
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
    return new CacheResult(model, steps, evaluation.loss(), evaluation.accuracy());
  }
}
