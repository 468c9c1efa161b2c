package fedlake.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.model.Head;
import org.junit.jupiter.api.Test;

class LocalTrainerTest {
  private static TrainSettings plainSgd(
      int epochs, int batch, double learningRate, double weightDecay) {
    return new TrainSettings(epochs, batch, learningRate, 0, weightDecay, 1, false);
  }

  @Test
  void oneStepFromZerosMatchesTheHandComputedGradient() {
    // x = (1, 0), label 0, logits all 0 -> p = (1/2, 1/2); dL/dW_c = (p_c - [c == 0]) * scale * x
    Dataset data = Dataset.of("one", new float[] {1, 0}, new int[] {0}, 2);
    Head start = Head.zeros(2, 2, 10f);
    LocalTrainer.Result result =
        LocalTrainer.train(start, data, plainSgd(1, 1, 0.5, 0), LocalTrainer.Progress.NONE);
    // W -= 0.5 * (-0.5 * 10, 0; 0.5 * 10, 0), b -= 0.5 * (-0.5, 0.5)
    assertArrayEquals(new float[] {2.5f, 0f, -2.5f, 0f}, result.head().weights(), 0f);
    assertArrayEquals(new float[] {0.25f, -0.25f}, result.head().bias(), 0f);
    assertEquals(1, result.steps());
    assertEquals(1.0, result.accuracy(), 0.0);
    // trained logits (25.25, -25.25): loss = log(1 + e^-50.5)
    assertEquals(Math.log1p(Math.exp(-50.5)), result.loss(), 1e-20);
    assertArrayEquals(new float[4], start.weights(), 0f, "the input head must not change");
  }

  @Test
  void weightDecayPullsWeightsTowardsZero() {
    // start W = (1, 0; 0, 0), x = (1, 0), label 1: logits (10, 0), p0 = 1 / (1 + e^-10)
    Head start = new Head(2, 2, 10f, new float[] {1, 0, 0, 0}, new float[2]);
    Dataset data = Dataset.of("one", new float[] {1, 0}, new int[] {1}, 2);
    LocalTrainer.Result result =
        LocalTrainer.train(start, data, plainSgd(1, 1, 0.5, 0.1), LocalTrainer.Progress.NONE);
    double p0 = 1 / (1 + Math.exp(-10));
    // W00 -= 0.5 * (p0 * 10 + 0.1 * 1); W10 -= 0.5 * ((p0 - 1) * 10 + 0.1 * 0)... p1 - 1 = -p0
    assertEquals(1 - 0.5 * (p0 * 10 + 0.1), result.head().weights()[0], 1e-5);
    assertEquals(0.5 * p0 * 10, result.head().weights()[2], 1e-5);
    assertEquals(-0.5 * p0, result.head().bias()[0], 1e-6);
    assertEquals(0.5 * p0, result.head().bias()[1], 1e-6);
  }

  @Test
  void balancedLossLeavesAbsentClassesAloneAndALoneClassUnchanged() {
    // a site that only has class 0: under the balanced loss absent classes get probability 0, so
    // class 0 already has probability 1 and nothing moves
    Dataset data = Dataset.of("one-class", new float[] {1, 0, 0.8f, 0.6f}, new int[] {0, 0}, 2);
    Head start =
        new Head(
            2,
            3,
            10f,
            new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f},
            new float[] {0.1f, 0.2f, 0.3f});
    TrainSettings balanced = new TrainSettings(3, 1, 0.5, 0.9, 0, 1, true);
    LocalTrainer.Result result =
        LocalTrainer.train(start, data, balanced, LocalTrainer.Progress.NONE);
    assertArrayEquals(start.weights(), result.head().weights(), 0f);
    assertArrayEquals(start.bias(), result.head().bias(), 0f);
    assertEquals(6, result.steps());
  }

  @Test
  void learnsSeededGaussianClasses() {
    GaussianClasses generator = new GaussianClasses(8, 32, 1.8, 5);
    Dataset train = generator.sample(40, 6, "train");
    Dataset test = generator.sample(40, 7, "test");
    Head start = Head.zeros(32, 8, 10f);
    double chance = Math.log(8);
    assertEquals(
        chance, start.evaluate(test).loss(), 1e-12, "a zero head predicts 1/8 for every class");
    double[] epochLosses = new double[3];
    LocalTrainer.Result result =
        LocalTrainer.train(
            start,
            train,
            TrainSettings.defaults(3).withEpochs(3),
            (epoch, epochs, loss) -> epochLosses[epoch - 1] = loss);
    Head.Evaluation held = result.head().evaluate(test);
    // the nearest class centre is the best rule for this data: a head whose rows are the centres
    Head centres = new Head(32, 8, 10f, generator.centres(), new float[8]);
    double best = centres.evaluate(test).accuracy();
    String figures =
        String.format(
            "train acc %.4f loss %.4f, test acc %.4f loss %.4f (nearest centre %.4f), epoch losses %s",
            result.accuracy(),
            result.loss(),
            held.accuracy(),
            held.loss(),
            best,
            java.util.Arrays.toString(epochLosses));
    assertEquals(60, result.steps(), figures); // 3 epochs x ceil(320 / 16)
    // measured: train acc 1.0000 loss 0.0865, test acc 0.8938 loss 0.3427, nearest centre 0.9375
    assertTrue(result.accuracy() >= 0.97, "train accuracy too low: " + figures);
    assertTrue(result.loss() < 0.15, "train loss too high: " + figures);
    assertTrue(held.accuracy() >= 0.84, "test accuracy too low: " + figures);
    assertTrue(
        held.accuracy() >= best - 0.1,
        "test accuracy too far below the nearest-centre rule: " + figures);
    assertTrue(held.loss() < chance, "test loss not below chance: " + figures);
    assertTrue(epochLosses[2] < epochLosses[0], "loss did not fall over the epochs: " + figures);
  }

  @Test
  void sameSeedGivesBitIdenticalHeads() {
    GaussianClasses generator = new GaussianClasses(4, 16, 1.0, 1);
    Dataset train = generator.sample(25, 2, "train");
    Head start = Head.zeros(16, 4, 10f);
    LocalTrainer.Result a =
        LocalTrainer.train(start, train, TrainSettings.defaults(99), LocalTrainer.Progress.NONE);
    LocalTrainer.Result b =
        LocalTrainer.train(start, train, TrainSettings.defaults(99), LocalTrainer.Progress.NONE);
    LocalTrainer.Result c =
        LocalTrainer.train(start, train, TrainSettings.defaults(100), LocalTrainer.Progress.NONE);
    assertArrayEquals(a.head().weights(), b.head().weights(), 0f);
    assertArrayEquals(a.head().bias(), b.head().bias(), 0f);
    assertTrue(
        !java.util.Arrays.equals(a.head().weights(), c.head().weights()),
        "another seed should shuffle differently");
  }

  @Test
  void rejectsDataOfTheWrongDimension() {
    Dataset data = Dataset.of("three.npy", new float[] {1, 0, 0}, new int[] {0}, 3);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LocalTrainer.train(
                    Head.zeros(2, 2, 10f),
                    data,
                    TrainSettings.defaults(0),
                    LocalTrainer.Progress.NONE));
    assertEquals("Cannot train: data has dimension 3, model expects 2", e.getMessage());
  }

  @Test
  void rejectsLabelsOutsideTheModel() {
    Dataset data = Dataset.of("labels.npy", new float[] {1, 0, 0, 1}, new int[] {0, 2}, 2);
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () ->
                LocalTrainer.train(
                    Head.zeros(2, 2, 10f),
                    data,
                    TrainSettings.defaults(0),
                    LocalTrainer.Progress.NONE));
    assertEquals(
        "labels.npy: row 1 has label 2 but the model has 2 classes (0..1)", e.getMessage());
  }

  @Test
  void settingsRejectNonsense() {
    IllegalArgumentException batch =
        assertThrows(
            IllegalArgumentException.class, () -> new TrainSettings(1, 0, 0.5, 0.9, 0, 0, true));
    assertEquals("batch size must be positive, got 0", batch.getMessage());
    IllegalArgumentException rate =
        assertThrows(
            IllegalArgumentException.class,
            () -> new TrainSettings(1, 8, Double.NaN, 0.9, 0, 0, true));
    assertEquals("learning rate must be positive, got NaN", rate.getMessage());
    IllegalArgumentException momentum =
        assertThrows(
            IllegalArgumentException.class, () -> new TrainSettings(1, 8, 0.5, 1, 0, 0, true));
    assertEquals("momentum must be in [0, 1), got 1.0", momentum.getMessage());
  }
}
