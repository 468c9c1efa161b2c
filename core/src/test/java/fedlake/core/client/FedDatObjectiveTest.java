package fedlake.core.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * FedDAT's losses: the softened KL against hand-computed values, and both parts' gradients against
 * central differences of an independent double-precision implementation.
 */
class FedDatObjectiveTest {
  private static final int DIMENSION = 6;
  private static final int CLASSES = 5;
  private static final int ROWS = 7;
  private static final float SCALE = 10f;
  private static final double STEP = 1e-4;

  @Test
  void softenedKlMatchesAHandComputedCase() {
    // teacher logits (3, 0), student (0, 0), T = 3: p = softmax(1, 0) = (0.7310586, 0.2689414),
    // q = (0.5, 0.5); KL = 0.7310586 ln(1.4621172) + 0.2689414 ln(0.5378828) = 0.1109441;
    // gradient (q - p) / T = (-0.0770195, 0.0770195)
    float[][] teacher = {{3f, 0f}};
    float[][] student = {{0f, 0f}};
    float[][] d = {{0f, 0f}};
    double loss =
        Distillation.softKl(teacher, student, 1, 2, 3.0, 1.0, 1.0, new double[2], new double[2], d);
    assertEquals(0.1109440717, loss, 1e-8);
    assertArrayEquals(new float[] {-0.0770195f, 0.0770195f}, d[0], 1e-6f);

    // weight 0.5 and scale 0.25 (a batch of 4): half the loss, an eighth of the gradient, added
    float[][] e = {{1f, 1f}};
    double half =
        Distillation.softKl(
            teacher, student, 1, 2, 3.0, 0.5, 0.25, new double[2], new double[2], e);
    assertEquals(0.0554720358, half, 1e-8);
    assertArrayEquals(new float[] {1f - 0.0096274f, 1f + 0.0096274f}, e[0], 1e-6f);
  }

  @Test
  void equalDistributionsCostNothingAndPullNowhere() {
    float[][] same = {{1.5f, -2f, 0.25f}};
    float[][] d = new float[1][3];
    double loss =
        Distillation.softKl(same, same, 1, 3, 3.0, 1.0, 1.0, new double[3], new double[3], d);
    assertEquals(0.0, loss, 1e-12);
    assertArrayEquals(new float[3], d[0], 1e-7f);
    // a shift of all logits changes neither softmax
    float[][] shifted = {{11.5f, 8f, 10.25f}};
    assertEquals(
        0.0,
        Distillation.softKl(shifted, same, 1, 3, 3.0, 1.0, 1.0, new double[3], new double[3], d),
        1e-9);
  }

  @Test
  void sharedAndLocalGradientsMatchCentralDifferences() {
    SplittableRandom random = new SplittableRandom(12);
    Dataset data = rows(random);
    int size = CLASSES * DIMENSION + CLASSES;
    float[] shared = randomVector(random, size, 0.3);
    float[] local = randomVector(random, size, 0.3);
    float[] frozen = randomVector(random, size, 0.3);
    Personalisation mode = new Personalisation(Personalisation.FEDDAT, 3.0, 0.7, 1.3);
    FedDatObjective objective = new FedDatObjective(DIMENSION, CLASSES, SCALE, null, frozen, mode);
    float[] stored = concat(shared, local);
    float[] gradient = new float[2 * size];
    Batch batch = new Batch(ROWS, DIMENSION).fill(data, LocalTraining.identity(ROWS), 0, ROWS);
    double sum = objective.lossAndGradient(objective.pack(stored), batch, gradient);
    float[] g = objective.unpack(gradient);

    double[] s = toDouble(shared);
    double[] l = toDouble(local);
    double[] f = toDouble(frozen);
    assertEquals(
        ROWS * (sharedLoss(s, l, f, data, mode) + localLoss(s, l, data, mode)),
        sum,
        1e-3,
        "the returned loss is both parts' losses summed over the rows");
    double worst = 0;
    for (int i = 0; i < size; i++) {
      double[] plus = s.clone();
      double[] minus = s.clone();
      plus[i] += STEP;
      minus[i] -= STEP;
      double numeric =
          (sharedLoss(plus, l, f, data, mode) - sharedLoss(minus, l, f, data, mode)) / (2 * STEP);
      assertEquals(numeric, g[i], 2e-3 + 2e-3 * Math.abs(numeric), "shared parameter " + i);
      worst = Math.max(worst, Math.abs(numeric));
    }
    for (int i = 0; i < size; i++) {
      double[] plus = l.clone();
      double[] minus = l.clone();
      plus[i] += STEP;
      minus[i] -= STEP;
      double numeric =
          (localLoss(s, plus, data, mode) - localLoss(s, minus, data, mode)) / (2 * STEP);
      assertEquals(numeric, g[size + i], 2e-3 + 2e-3 * Math.abs(numeric), "local parameter " + i);
      worst = Math.max(worst, Math.abs(numeric));
    }
    assertTrue(worst > 0.05, "the check saw gradients of a useful size, largest " + worst);
  }

  @Test
  void withoutDistillationBothPartsTrainAsPlainHeads() {
    SplittableRandom random = new SplittableRandom(5);
    Dataset data = rows(random);
    int size = CLASSES * DIMENSION + CLASSES;
    float[] shared = randomVector(random, size, 0.3);
    float[] local = randomVector(random, size, 0.3);
    FedDatObjective objective =
        new FedDatObjective(
            DIMENSION,
            CLASSES,
            SCALE,
            null,
            randomVector(random, size, 0.3),
            new Personalisation(Personalisation.FEDDAT, 3.0, 0.0, 0.0));
    Batch batch = new Batch(ROWS, DIMENSION).fill(data, LocalTraining.identity(ROWS), 0, ROWS);
    float[] gradient = new float[2 * size];
    double loss = objective.lossAndGradient(objective.pack(concat(shared, local)), batch, gradient);
    HeadObjective head = new HeadObjective(DIMENSION, CLASSES, SCALE, null);
    float[] gs = new float[size];
    float[] gl = new float[size];
    double ls = head.lossAndGradient(head.pack(shared), batch, gs);
    double ll = head.lossAndGradient(head.pack(local), batch, gl);
    assertEquals(ls + ll, loss, 1e-4);
    assertArrayEquals(gs, Arrays.copyOf(gradient, size), 1e-6f);
    assertArrayEquals(gl, Arrays.copyOfRange(gradient, size, 2 * size), 1e-6f);
  }

  @Test
  void badSettingsAreRefusedWithTheReason() {
    IllegalArgumentException mode =
        assertThrows(
            IllegalArgumentException.class, () -> new Personalisation("fedper", 3.0, 1.0, 1.0));
    assertEquals("personalisation mode must be 'feddat', got 'fedper'", mode.getMessage());
    IllegalArgumentException t =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Personalisation(Personalisation.FEDDAT, 0.0, 1.0, 1.0));
    assertEquals("personalisation temperature must be finite and > 0, got 0.0", t.getMessage());
    IllegalArgumentException w =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Personalisation(Personalisation.FEDDAT, 3.0, 1.0, -1.0));
    assertEquals(
        "personalisation local distillation weight must be finite and >= 0, got -1.0",
        w.getMessage());
    FedDatObjective objective =
        new FedDatObjective(
            DIMENSION, CLASSES, SCALE, null, new float[35], Personalisation.feddat());
    IllegalArgumentException length =
        assertThrows(IllegalArgumentException.class, () -> objective.pack(new float[35]));
    assertEquals(
        "FedDAT on a head of 5 x 6 has 70 parameters (shared and local head), got 35",
        length.getMessage());
  }

  // ---- independent double-precision reference ----

  /** Mean over rows of CE(shared) + ws KL(softmax(t/T) || softmax(shared/T)), t = (l + f)/2. */
  private static double sharedLoss(
      double[] s, double[] l, double[] f, Dataset data, Personalisation mode) {
    double total = 0;
    for (int r = 0; r < data.size(); r++) {
      double[] zs = logits(s, data, r);
      double[] zl = logits(l, data, r);
      double[] zf = logits(f, data, r);
      double[] t = new double[CLASSES];
      for (int c = 0; c < CLASSES; c++) {
        t[c] = (zl[c] + zf[c]) / 2;
      }
      total +=
          crossEntropy(zs, data.label(r)) + mode.sharedWeight() * softKl(t, zs, mode.temperature());
    }
    return total / data.size();
  }

  /** Mean over rows of CE(local) + wl KL(softmax(shared/T) || softmax(local/T)). */
  private static double localLoss(double[] s, double[] l, Dataset data, Personalisation mode) {
    double total = 0;
    for (int r = 0; r < data.size(); r++) {
      double[] zs = logits(s, data, r);
      double[] zl = logits(l, data, r);
      total +=
          crossEntropy(zl, data.label(r)) + mode.localWeight() * softKl(zs, zl, mode.temperature());
    }
    return total / data.size();
  }

  private static double[] logits(double[] head, Dataset data, int row) {
    double[] z = new double[CLASSES];
    for (int c = 0; c < CLASSES; c++) {
      double dot = 0;
      for (int j = 0; j < DIMENSION; j++) {
        dot += head[c * DIMENSION + j] * data.features()[row * DIMENSION + j];
      }
      z[c] = SCALE * dot + head[CLASSES * DIMENSION + c];
    }
    return z;
  }

  private static double crossEntropy(double[] z, int label) {
    return logSumExp(z, 1) - z[label];
  }

  private static double softKl(double[] teacher, double[] student, double temperature) {
    double lt = logSumExp(teacher, temperature);
    double ls = logSumExp(student, temperature);
    double kl = 0;
    for (int c = 0; c < teacher.length; c++) {
      double logP = teacher[c] / temperature - lt;
      double logQ = student[c] / temperature - ls;
      kl += Math.exp(logP) * (logP - logQ);
    }
    return kl;
  }

  private static double logSumExp(double[] z, double temperature) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v / temperature);
    }
    double sum = 0;
    for (double v : z) {
      sum += Math.exp(v / temperature - max);
    }
    return max + Math.log(sum);
  }

  private static Dataset rows(SplittableRandom random) {
    float[] x = new float[ROWS * DIMENSION];
    int[] labels = new int[ROWS];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    for (int r = 0; r < ROWS; r++) {
      labels[r] = random.nextInt(CLASSES);
    }
    return Dataset.of("random", x, labels, DIMENSION);
  }

  private static float[] randomVector(SplittableRandom random, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (random.nextGaussian() * scale);
    }
    return v;
  }

  private static float[] concat(float[] a, float[] b) {
    float[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static double[] toDouble(float[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return out;
  }
}
