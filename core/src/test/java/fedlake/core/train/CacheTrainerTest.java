package fedlake.core.train;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CacheTrainerTest {
  private static TrainSettings plainSgd(int epochs, int batch, double learningRate) {
    return new TrainSettings(epochs, batch, learningRate, 0, 0, 1, false);
  }

  @Test
  void oneStepMatchesTheHandComputedGradient() {
    // zero head; key 0 = (0.6, 0.8) of class 0, key 1 = (0, 1) of class 1; alpha 1, beta 2; x = (1,
    // 0), label 0.
    // cos = (0.6, 0): a0 = e^-0.8 = 0.4493289641, a1 = e^-2 = 0.1353352832; logits (a0, a1), p0 =
    // 0.5778597728.
    // dL/dK0 = (p0 - 1) * 2 * a0 * (x - 0.6 * K0) = (p0 - 1) * 2 * a0 * (0.64, -0.48); dL/dK1 = p1
    // * 2 * a1 * (1, 0).
    // K -= 0.5 * dL/dK
    CacheModel start =
        new CacheModel(Head.zeros(2, 2, 10f), floats(0.6, 0.8, 0, 1), new int[] {0, 1}, 1f, 2f);
    Dataset data = Dataset.of("one", floats(1, 0), new int[] {0}, 2);
    CacheTrainer.Result result =
        CacheTrainer.train(
            start, data, plainSgd(1, 1, 0.5), false, null, LocalTrainer.Progress.NONE);
    assertArrayEquals(
        floats(0.7213950918373893, 0.708953681121958, -0.057130467212456064, 1.0),
        result.model().keys(),
        1e-6f);
    assertEquals(1, result.steps());
    assertArrayEquals(floats(0.6, 0.8, 0, 1), start.keys(), 0f, "the input model must not change");
    assertArrayEquals(
        new float[4], result.model().head().weights(), 0f, "Tip-Adapter-F leaves the head alone");
  }

  /**
   * Mean cross-entropy of {@code model} on {@code data} with key value {@code index} set to {@code
   * value}.
   */
  private static double lossWithKey(CacheModel model, Dataset data, int index, float value) {
    CacheModel copy = model.copy();
    copy.keys()[index] = value;
    copy.refreshNorms();
    return copy.evaluate(data).loss();
  }

  @Test
  void keyGradientAgreesWithFiniteDifferencesAndTheCorrectionShiftsIt() {
    SplittableRandom random = new SplittableRandom(4);
    int dimension = 5;
    int classes = 3;
    int size = 4;
    float[] keys = new float[size * dimension];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = (float) (random.nextDouble() * 2 - 1);
    }
    float[] weights = new float[classes * dimension];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) (random.nextDouble() * 0.2 - 0.1);
    }
    CacheModel start =
        new CacheModel(
            new Head(dimension, classes, 10f, weights, floats(0.1, -0.2, 0)),
            keys,
            new int[] {0, 1, 2, 1},
            1.5f,
            4f);
    float[] rows = new float[6 * dimension];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (float) (random.nextDouble() * 2 - 1);
    }
    Dataset data = Dataset.of("six", rows, new int[] {0, 1, 2, 0, 1, 2}, dimension);
    double lr = 1e-3;
    // one full-batch step: the change of every key value is -lr * dL/dK (+ the correction)
    float[] correction = new float[weights.length + classes + keys.length];
    int shifted = weights.length + classes + 7;
    correction[shifted] = 0.25f;
    CacheTrainer.Result plain =
        CacheTrainer.train(
            start, data, plainSgd(1, 6, lr), false, null, LocalTrainer.Progress.NONE);
    CacheTrainer.Result corrected =
        CacheTrainer.train(
            start, data, plainSgd(1, 6, lr), false, correction, LocalTrainer.Progress.NONE);
    double h = 1e-3;
    for (int i = 0; i < keys.length; i++) {
      double numeric =
          (lossWithKey(start, data, i, keys[i] + (float) h)
                  - lossWithKey(start, data, i, keys[i] - (float) h))
              / (2 * h);
      double analytic = (keys[i] - plain.model().keys()[i]) / lr;
      assertEquals(numeric, analytic, 2e-3, "dL/dK at " + i);
      double expectedShift = i == 7 ? 0.25 : 0;
      assertEquals(
          analytic + expectedShift,
          (keys[i] - corrected.model().keys()[i]) / lr,
          2e-3,
          "corrected step at " + i);
    }
  }

  @Test
  void trainingTheHeadTooMovesItByItsOwnGradient() {
    // as the hand-computed step above, with the head trained too: dL/dW_c = (p_c - [c == 0]) * 10 *
    // x, dL/db_c = p_c - [c == 0]
    CacheModel start =
        new CacheModel(Head.zeros(2, 2, 10f), floats(0.6, 0.8, 0, 1), new int[] {0, 1}, 1f, 2f);
    Dataset data = Dataset.of("one", floats(1, 0), new int[] {0}, 2);
    CacheTrainer.Result result =
        CacheTrainer.train(
            start, data, plainSgd(1, 1, 0.5), true, null, LocalTrainer.Progress.NONE);
    double p1 = 1 - 0.577859772809044;
    assertArrayEquals(
        floats(0.5 * p1 * 10, 0, -0.5 * p1 * 10, 0), result.model().head().weights(), 1e-6f);
    assertArrayEquals(floats(0.5 * p1, -0.5 * p1), result.model().head().bias(), 1e-6f);
    assertArrayEquals(
        floats(0.7213950918373893, 0.708953681121958, -0.057130467212456064, 1.0),
        result.model().keys(),
        1e-6f);
  }

  @Test
  void fineTunedKeysLearnSeededGaussianClasses() {
    // keys: 3 very noisy draws per class (noise 4 instead of the data's 1.5), a poor cache;
    // fine-tuning
    // turns them toward their classes
    GaussianClasses generator = new GaussianClasses(6, 24, 1.5, 8);
    Dataset train = generator.sample(40, 9, "train");
    Dataset test = generator.sample(40, 10, "test");
    Dataset keys = new GaussianClasses(6, 24, 4.0, 8).sample(3, 11, "noisy keys");
    CacheModel start =
        new CacheModel(
            Head.zeros(24, 6, 10f), keys.features().clone(), keys.labels().clone(), 4f, 5.5f);
    double before = start.evaluate(test).accuracy();
    double[] epochLosses = new double[5];
    CacheTrainer.Result result =
        CacheTrainer.train(
            start,
            train,
            TrainSettings.defaults(3).withEpochs(5),
            false,
            null,
            (epoch, epochs, loss) -> epochLosses[epoch - 1] = loss);
    Head.Evaluation after = result.model().evaluate(test);
    double centres =
        new Head(24, 6, 10f, generator.centres(), new float[6]).evaluate(test).accuracy();
    String figures =
        String.format(
            "test accuracy %.4f before, %.4f after (nearest centre %.4f), epoch losses %s",
            before, after.accuracy(), centres, java.util.Arrays.toString(epochLosses));
    // measured: test accuracy 0.5750 before, 0.9000 after (nearest centre 0.9458), epoch losses
    // 1.651 .. 1.181
    assertTrue(after.accuracy() >= before + 0.1, "fine-tuning did not help enough: " + figures);
    assertTrue(
        after.accuracy() >= centres - 0.08,
        "fine-tuned cache too far below the nearest-centre rule: " + figures);
    assertTrue(epochLosses[4] < epochLosses[0], "loss did not fall over the epochs: " + figures);
    assertEquals(75, result.steps(), figures); // 5 epochs x ceil(240 / 16)
  }

  @Test
  void rejectsACorrectionOfTheWrongLength() {
    CacheModel start =
        new CacheModel(Head.zeros(2, 2, 10f), floats(0.6, 0.8), new int[] {0}, 1f, 2f);
    Dataset data = Dataset.of("one", floats(1, 0), new int[] {0}, 2);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                CacheTrainer.train(
                    start,
                    data,
                    plainSgd(1, 1, 0.5),
                    false,
                    new float[6],
                    LocalTrainer.Progress.NONE));
    assertEquals("Cannot train: correction has 6 values, model has 8 parameters", e.getMessage());
  }
}
