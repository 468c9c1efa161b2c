package fedlake.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Head#logits} sums four classes at a time; every logit must be the double of the plain
 * definition, {@code logitScale * sum_j (float) (w[c][j] * x[j]) + b[c]} summed over j in order.
 */
class HeadLogitsTest {
  @Test
  void logitsAreThoseOfOneClassAtATime() {
    int dimension = 13;
    SplittableRandom random = new SplittableRandom(4);
    for (int classes : new int[] {1, 3, 4, 7, 9}) {
      float[] weights = new float[classes * dimension];
      float[] bias = new float[classes];
      float[] features = new float[3 * dimension];
      for (int i = 0; i < weights.length; i++) {
        weights[i] = (float) random.nextGaussian();
      }
      for (int c = 0; c < classes; c++) {
        bias[c] = (float) random.nextGaussian();
      }
      for (int i = 0; i < features.length; i++) {
        features[i] = (float) random.nextGaussian();
      }
      Head head = new Head(dimension, classes, 10f, weights, bias);
      for (int row = 0; row < 3; row++) {
        double[] expected = new double[classes];
        for (int c = 0; c < classes; c++) {
          double dot = 0;
          for (int j = 0; j < dimension; j++) {
            dot += weights[c * dimension + j] * features[row * dimension + j];
          }
          expected[c] = 10f * dot + bias[c];
        }
        double[] actual = new double[classes];
        head.logits(features, row * dimension, actual);
        assertArrayEquals(expected, actual, 0.0, classes + " classes, row " + row);
      }
    }
  }
}
