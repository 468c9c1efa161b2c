package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fedlake.core.model.Models;
import fedlake.schema.Model;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Local DP at the edge: the change is clipped, then noised with the stated standard deviation. */
class LocalDpTest {
  private static Model zeros(int dimension, int classes) {
    return Models.initialHead(
        fedlake.core.model.Head.zeros(dimension, classes, Models.DEFAULT_LOGIT_SCALE),
        0,
        "zeros",
        false,
        0);
  }

  @Test
  void theChangeIsClippedToTheBound() {
    Model base = zeros(2, 2); // 4 weights + 2 biases, all zero
    float[] parameters = {3, 4, 0, 0, 0, 0};
    EdgeTrain.noiseChange(base, parameters, 1.0, 0.0, new Random(1));
    assertArrayEquals(new float[] {0.6f, 0.8f, 0, 0, 0, 0}, parameters, 1e-7f);
    float[] inside = {0.3f, 0.4f, 0, 0, 0, 0};
    EdgeTrain.noiseChange(base, inside, 1.0, 0.0, new Random(1));
    assertArrayEquals(new float[] {0.3f, 0.4f, 0, 0, 0, 0}, inside);
  }

  @Test
  void theNoiseHasStandardDeviationNoiseTimesClip() {
    Model base = zeros(512, 100); // 51,300 parameters
    float[] parameters = new float[Models.parameterCount(base)];
    EdgeTrain.noiseChange(base, parameters, 0.5, 4.0, new Random(7));
    double squares = 0;
    for (float v : parameters) {
      squares += (double) v * v;
    }
    assertEquals(2.0, Math.sqrt(squares / parameters.length), 0.02, "std 4 x 0.5");
  }
}
