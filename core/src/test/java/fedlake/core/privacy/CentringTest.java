package fedlake.core.privacy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import fedlake.core.data.Dataset;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Centred coordinates of a head: the same function, another geometry for clipping and noise. */
class CentringTest {
  // 2 classes x 3 dims, logit scale 10
  private static final float[] WEIGHTS = {0.2f, -0.1f, 0.4f, -0.3f, 0.5f, 0.1f};
  private static final float[] BIAS = {0.25f, -0.5f};
  private static final List<Float> CENTRE = List.of(0.5f, 0.25f, -1f);

  private static Model model() {
    return fedlake.core.Fixtures.headModel(0, 3, 2, WEIGHTS, BIAS);
  }

  @Test
  void theCentredHeadOnShiftedInputsGivesTheSameLogits() {
    Model model = model();
    Centring centring = Centring.of(CENTRE, model);
    // b_c = b + 10 W c: row 0: 0.25 + 10 (0.1 - 0.025 - 0.4) = -3.0; row 1: -0.5 + 10 (-0.15 +
    // 0.125 - 0.1) = -1.75
    Model centred = centring.centred(model);
    assertEquals(-3.0f, centred.getBias().get(0), 1e-6f);
    assertEquals(-1.75f, centred.getBias().get(1), 1e-6f);
    Dataset data = Dataset.of("rows", new float[] {1, 0, 0, 0.6f, 0.8f, 0}, new int[] {0, 1}, 3);
    Dataset shifted = centring.shift(data);
    double[] plain = new double[2];
    double[] moved = new double[2];
    for (int row = 0; row < 2; row++) {
      Models.classifier(model).logits(data.features(), row * 3, plain);
      Models.classifier(centred).logits(shifted.features(), row * 3, moved);
      assertArrayEquals(plain, moved, 1e-5);
    }
    float[] back = Models.parameters(centred);
    centring.toStored(back);
    assertArrayEquals(Models.parameters(model), back, 1e-6f);
  }

  @Test
  void theNormIsTakenInCentredCoordinatesAndNoiseMapsBack() {
    Centring centring = Centring.of(CENTRE, model());
    // dW row 0 (0.1, 0, 0), row 1 (0, 0, 0.2); db (-0.5, 2):
    // centred db: -0.5 + 10 (0.05) = 0, 2 + 10 (-0.2) = 0; norm sqrt(0.01 + 0.04)
    float[] change = {0.1f, 0, 0, 0, 0, 0.2f, -0.5f, 2f};
    assertEquals(Math.sqrt(0.05), centring.norm(change), 1e-7);
    double[] centred = {0.1, 0, 0, 0, 0, 0.2, 0, 0};
    centring.toStored(centred);
    assertArrayEquals(new double[] {0.1, 0, 0, 0, 0, 0.2, -0.5, 2}, centred, 1e-7);
  }

  @Test
  void anEmptyCentreMeansStoredCoordinates() {
    assertNull(Centring.of(List.of(), model()));
  }
}
