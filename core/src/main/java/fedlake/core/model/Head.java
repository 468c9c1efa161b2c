package fedlake.core.model;

import fedlake.core.data.Dataset;

/**
 * A softmax head over L2-normalised embeddings: {@code logits = logitScale * W x + b}, with W
 * row-major {@code classCount x dimension}. Mutable: local training updates it in place.
 */
public final class Head implements Classifier {
  private final int dimension;
  private final int classCount;
  private final float logitScale;
  private final float[] weights;
  private final float[] bias;

  public Head(int dimension, int classCount, float logitScale, float[] weights, float[] bias) {
    if (dimension <= 0 || classCount <= 0) {
      throw new IllegalArgumentException(
          "Head needs positive dimension and class count, got " + dimension + " x " + classCount);
    }
    if (weights.length != classCount * dimension) {
      throw new IllegalArgumentException(
          "Head of "
              + classCount
              + " x "
              + dimension
              + " needs "
              + classCount * dimension
              + " weights, got "
              + weights.length);
    }
    if (bias.length != classCount) {
      throw new IllegalArgumentException(
          "Head of " + classCount + " classes needs " + classCount + " biases, got " + bias.length);
    }
    this.dimension = dimension;
    this.classCount = classCount;
    this.logitScale = logitScale;
    this.weights = weights;
    this.bias = bias;
  }

  public static Head zeros(int dimension, int classCount, float logitScale) {
    return new Head(
        dimension,
        classCount,
        logitScale,
        new float[classCount * dimension],
        new float[classCount]);
  }

  public Head copy() {
    return new Head(dimension, classCount, logitScale, weights.clone(), bias.clone());
  }

  @Override
  public int dimension() {
    return dimension;
  }

  @Override
  public int classCount() {
    return classCount;
  }

  public float logitScale() {
    return logitScale;
  }

  /** Row-major weights; training writes into this array. */
  public float[] weights() {
    return weights;
  }

  public float[] bias() {
    return bias;
  }

  /** Writes the logits of the row at {@code offset} of {@code features} into {@code out}. */
  @Override
  public void logits(float[] features, int offset, double[] out) {
    // four classes at a time: four independent sums instead of one chain of dependent additions,
    // each still summed over j in order, so the logits are the same as one class at a time
    int c = 0;
    for (; c + 4 <= classCount; c += 4) {
      int w0 = c * dimension;
      int w1 = w0 + dimension;
      int w2 = w1 + dimension;
      int w3 = w2 + dimension;
      double dot0 = 0;
      double dot1 = 0;
      double dot2 = 0;
      double dot3 = 0;
      for (int j = 0; j < dimension; j++) {
        float x = features[offset + j];
        dot0 += weights[w0 + j] * x;
        dot1 += weights[w1 + j] * x;
        dot2 += weights[w2 + j] * x;
        dot3 += weights[w3 + j] * x;
      }
      out[c] = logitScale * dot0 + bias[c];
      out[c + 1] = logitScale * dot1 + bias[c + 1];
      out[c + 2] = logitScale * dot2 + bias[c + 2];
      out[c + 3] = logitScale * dot3 + bias[c + 3];
    }
    for (; c < classCount; c++) {
      int w = c * dimension;
      double dot = 0;
      for (int j = 0; j < dimension; j++) {
        dot += weights[w + j] * features[offset + j];
      }
      out[c] = logitScale * dot + bias[c];
    }
  }

  /** Accuracy and mean cross-entropy on the labelled rows of {@code data}. */
  @Override
  public Evaluation evaluate(Dataset data) {
    return Classifier.super.evaluate(data);
  }

  /** Result of {@link Classifier#evaluate}, for every model kind. */
  public record Evaluation(long examples, double accuracy, double loss) {}
}
