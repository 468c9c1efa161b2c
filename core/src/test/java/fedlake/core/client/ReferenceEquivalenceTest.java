package fedlake.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import fedlake.core.train.CacheTrainer;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * With the same seed, the batched objectives trained by {@link LocalTraining} (through the public
 * trainers) reproduce the parameters of the trainers they replaced ({@link ReferenceTrainers}) up
 * to float rounding.
 */
class ReferenceEquivalenceTest {
  private static final double TOLERANCE = 1e-4;

  private static float[] noise(int n, long seed, double scale) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (random.nextGaussian() * scale);
    }
    return v;
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  private static double maxAbs(float[] a) {
    double max = 0;
    for (float v : a) {
      max = Math.max(max, Math.abs(v));
    }
    return max;
  }

  @Test
  void headTrainingMatchesTheOldTrainer() {
    Dataset data =
        new GaussianClasses(6, 20, 1.2, 3)
            .sample(13, 4, "train"); // 78 rows: batches of 16 and a rest of 14
    Head start = new Head(20, 6, 10f, noise(120, 1, 0.1), noise(6, 2, 0.1));
    TrainSettings[] cases = {
      new TrainSettings(1, 16, 0.3, 0, 0, 5, false),
      new TrainSettings(3, 7, 0.2, 0.9, 0.01, 6, false),
      new TrainSettings(2, 16, 0.3, 0.5, 0.001, 7, true)
    };
    for (TrainSettings settings : cases) {
      for (float[] correction : new float[][] {null, noise(126, 8, 0.05)}) {
        LocalTrainer.Result now =
            LocalTrainer.train(start, data, settings, correction, LocalTrainer.Progress.NONE);
        ReferenceTrainers.HeadResult before =
            ReferenceTrainers.trainHead(
                start, data, settings, correction, LocalTrainer.Progress.NONE);
        double w = maxAbsDiff(before.head().weights(), now.head().weights());
        double b = maxAbsDiff(before.head().bias(), now.head().bias());
        String figures =
            String.format(
                "%s, correction %s: max |dW| %.3g, max |db| %.3g (max |W| %.3g)",
                settings, correction != null, w, b, maxAbs(now.head().weights()));
        assertTrue(w < TOLERANCE && b < TOLERANCE, figures);
        assertTrue(
            maxAbsDiff(start.weights(), now.head().weights()) > 100 * TOLERANCE,
            "training moved nothing: " + figures);
        assertEquals(before.steps(), now.steps());
        assertEquals(before.accuracy(), now.accuracy(), 1e-12, figures);
        assertEquals(before.loss(), now.loss(), 1e-4, figures);
      }
    }
  }

  @Test
  void cacheTrainingMatchesTheOldTrainer() {
    GaussianClasses generator = new GaussianClasses(4, 12, 1.0, 9);
    Dataset data = generator.sample(10, 10, "train");
    Dataset keys = new GaussianClasses(4, 12, 3.0, 9).sample(3, 11, "keys");
    Head head = new Head(12, 4, 10f, noise(48, 12, 0.05), noise(4, 13, 0.05));
    CacheModel start =
        new CacheModel(head, keys.features().clone(), keys.labels().clone(), 2f, 5.5f);
    int parameters = 48 + 4 + keys.features().length;
    for (boolean trainHead : new boolean[] {false, true}) {
      for (TrainSettings settings :
          new TrainSettings[] {
            new TrainSettings(1, 16, 0.3, 0, 0, 1, false),
            new TrainSettings(2, 5, 0.1, 0.9, 0.01, 2, true)
          }) {
        float[] correction = noise(parameters, 14, 0.02);
        CacheTrainer.Result now =
            CacheTrainer.train(
                start, data, settings, trainHead, correction, LocalTrainer.Progress.NONE);
        ReferenceTrainers.CacheResult before =
            ReferenceTrainers.trainCache(
                start, data, settings, trainHead, correction, LocalTrainer.Progress.NONE);
        double k = maxAbsDiff(before.model().keys(), now.model().keys());
        double w = maxAbsDiff(before.model().head().weights(), now.model().head().weights());
        double b = maxAbsDiff(before.model().head().bias(), now.model().head().bias());
        String figures =
            String.format(
                "train head %s, %s: max |dK| %.3g, max |dW| %.3g, max |db| %.3g",
                trainHead, settings, k, w, b);
        assertTrue(k < TOLERANCE && w < TOLERANCE && b < TOLERANCE, figures);
        assertTrue(
            maxAbsDiff(start.keys(), now.model().keys()) > 100 * TOLERANCE,
            "keys did not move: " + figures);
        assertEquals(
            trainHead,
            maxAbsDiff(start.head().weights(), now.model().head().weights()) > 0,
            figures);
        assertEquals(before.accuracy(), now.accuracy(), 1e-12, figures);
      }
    }
  }
}
