package fedlake.core.round;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The server's prior correction from the sites' prediction sums, against hand-computed values. */
class PriorCorrectionTest {
  // site A: 4 rows predicting [2, 1, 1] in sum; site B: 2 rows predicting [0, 0.5, 1.5]
  // together 6 rows, [2, 1.5, 2.5]: C pbar = [1, 0.75, 1.25]
  // log C pbar = [0, -0.2876821, 0.2231436], mean -0.0215128
  // step (d = 1) = -(log - mean) = [-0.0215128, 0.2661692, -0.2446564]
  private static final double[] STEP = {
    -0.02151284037919038, 0.2661692320725905, -0.24465639169340014
  };

  private static PriorCorrection twoSites() {
    PriorCorrection sums = new PriorCorrection(3);
    sums.add(new float[] {2f, 1f, 1f}, 4);
    sums.add(new float[] {0f, 0.5f, 1.5f}, 2);
    return sums;
  }

  @Test
  void twoSitesSumsGiveTheHandComputedBiasStep() {
    PriorCorrection sums = twoSites();
    assertEquals(6, sums.rows());
    assertEquals(2, sums.updates());
    assertArrayEquals(new double[] {1, 0.75, 1.25}, sums.relativeMeanPrediction(), 1e-12);
    assertArrayEquals(STEP, sums.step(1), 1e-12);
    assertArrayEquals(new double[] {STEP[0] / 2, STEP[1] / 2, STEP[2] / 2}, sums.step(0.5), 1e-12);
    assertEquals(1.25, sums.largestRelative(), 1e-12);

    // the biases follow the weights in the stored layout: 2 weights, then 3 biases
    float[] parameters = {7f, 8f, 0.5f, -1f, 0f};
    PriorCorrection.Applied applied = sums.applyTo(parameters, 2, 1);
    assertArrayEquals(
        new float[] {
          7f, 8f, (float) (0.5 + STEP[0]), (float) (-1 + STEP[1]), (float) (0 + STEP[2])
        },
        parameters,
        1e-6f);
    assertEquals(0.2661692, applied.largestChange(), 1e-6);
    assertEquals(6, applied.rows());
    assertEquals(1.25, applied.meanPredictionMax(), 1e-12);
  }

  @Test
  void scanTasksThatSplitTheSitesMergeToTheSameSums() {
    PriorCorrection a = new PriorCorrection(3);
    a.add(new float[] {2f, 1f, 1f}, 4);
    PriorCorrection b = new PriorCorrection(3);
    b.add(new float[] {0f, 0.5f, 1.5f}, 2);
    PriorCorrection merged = a.merge(b);
    assertArrayEquals(STEP, merged.step(1), 1e-12);
    assertEquals(6, merged.rows());
    assertEquals(2, merged.updates());
  }

  @Test
  void aUniformMeanPredictionLeavesTheBiasesAlone() {
    PriorCorrection sums = new PriorCorrection(4);
    sums.add(new float[] {1f, 1f, 1f, 1f}, 4);
    sums.add(new float[] {0f, 2f, 2f, 0f}, 4);
    sums.add(new float[] {2f, 0f, 0f, 2f}, 4);
    assertArrayEquals(new double[4], sums.step(1), 1e-12);
  }

  @Test
  void aClassNoRowPredictsMovesByTheFloorAtMost() {
    PriorCorrection sums = new PriorCorrection(2);
    sums.add(new float[] {0f, 10f}, 10);
    // C pbar = [0 -> floored 1e-3, 2]: log = [-6.9077553, 0.6931472], mean -3.1073040
    double[] step = sums.step(1);
    assertEquals(3.8004512, step[0], 1e-6);
    assertEquals(-3.8004512, step[1], 1e-6);
  }

  @Test
  void sumsThatCannotBeASitesPredictionsAreRefusedWithTheReason() {
    assertNull(PriorCorrection.problem(new float[] {2f, 1f, 1f}, 4L, 3));
    assertEquals(
        "predictionSum needs predictionRows",
        PriorCorrection.problem(new float[] {2f, 1f, 1f}, null, 3));
    assertEquals(
        "predictionRows is 0, not a positive row count",
        PriorCorrection.problem(new float[] {0f, 0f, 0f}, 0L, 3));
    assertEquals(
        "predictionSum holds 2 values, the model has 3 classes",
        PriorCorrection.problem(new float[] {2f, 2f}, 4L, 3));
    assertEquals(
        "predictionSum[1] is -1.0, outside [0, predictionRows = 4]",
        PriorCorrection.problem(new float[] {4f, -1f, 1f}, 4L, 3));
    assertEquals(
        "predictionSum[0] is NaN, outside [0, predictionRows = 4]",
        PriorCorrection.problem(new float[] {Float.NaN, 1f, 1f}, 4L, 3));
    assertEquals(
        "predictionSum[2] is 40.0, outside [0, predictionRows = 4]",
        PriorCorrection.problem(new float[] {0f, 0f, 40f}, 4L, 3));
    assertEquals(
        "predictionSum adds up to 3.0000, not predictionRows = 4 (each row's probabilities add"
            + " up to 1)",
        PriorCorrection.problem(new float[] {1f, 1f, 1f}, 4L, 3));
  }
}
