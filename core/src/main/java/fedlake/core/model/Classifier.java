package fedlake.core.model;

import fedlake.core.data.Dataset;

/**
 * What every model kind offers for scoring: logits of one L2-normalised embedding, and accuracy and
 * cross-entropy on a labelled data set. {@link Models#classifier} gives the one of a stored model,
 * so evaluation code need not know the kind.
 */
public interface Classifier {
  int dimension();

  int classCount();

  /**
   * Writes the logits of the row at {@code offset} of {@code features} into {@code out} (length
   * classCount).
   */
  void logits(float[] features, int offset, double[] out);

  /**
   * Accuracy and mean cross-entropy on the rows of {@code data} labelled in [0, classCount); other
   * rows are skipped.
   */
  default Head.Evaluation evaluate(Dataset data) {
    int classCount = classCount();
    int dimension = dimension();
    if (data.dimension() != dimension) {
      throw new IllegalArgumentException(
          "Cannot evaluate on "
              + data.source()
              + ": rows have dimension "
              + data.dimension()
              + ", model expects "
              + dimension);
    }
    double[] logits = new double[classCount];
    long correct = 0;
    long counted = 0;
    double loss = 0;
    float[] features = data.features();
    for (int row = 0; row < data.size(); row++) {
      int label = data.label(row);
      if (label < 0 || label >= classCount) {
        continue;
      }
      logits(features, row * dimension, logits);
      int best = 0;
      double max = logits[0];
      for (int c = 1; c < classCount; c++) {
        if (logits[c] > max) {
          max = logits[c];
          best = c;
        }
      }
      double sum = 0;
      for (int c = 0; c < classCount; c++) {
        sum += Math.exp(logits[c] - max);
      }
      loss += Math.log(sum) + max - logits[label];
      if (best == label) {
        correct++;
      }
      counted++;
    }
    return counted == 0
        ? new Head.Evaluation(0, Double.NaN, Double.NaN)
        : new Head.Evaluation(counted, (double) correct / counted, loss / counted);
  }
}
