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
    for (int c = 0; c < classCount; c++) {
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
