package fedlake.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The objective of training without labels: its gradient against central differences of an
 * independent double-precision loss (every term, block remainders: 7 rows, 5 classes, dimension 9),
 * and known answers (targets equal to the predictions give no gradient, a uniform mean prediction
 * gives no balance gradient).
 */
class PseudoLabelObjectiveTest {
  private static final int N = 7;
  private static final int C = 5;
  private static final int D = 9;
  private static final float SCALE = 10f;
  private static final double STEP = 1e-4;

  private static Dataset rows(SplittableRandom random, int n, int[] labels) {
    float[] x = new float[n * D];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    return Dataset.of("random", x, labels, D);
  }

  private static float[] softTargets(SplittableRandom random) {
    float[] t = new float[N * C];
    for (int r = 0; r < N; r++) {
      double sum = 0;
      for (int c = 0; c < C; c++) {
        t[r * C + c] = (float) (0.05 + random.nextDouble());
        sum += t[r * C + c];
      }
      for (int c = 0; c < C; c++) {
        t[r * C + c] /= (float) sum;
      }
    }
    return t;
  }

  private static double[] softmax(double[] p, Dataset data, int r) {
    double[] z = new double[C];
    for (int c = 0; c < C; c++) {
      double dot = 0;
      for (int j = 0; j < D; j++) {
        dot += p[c * D + j] * data.features()[r * D + j];
      }
      z[c] = SCALE * dot + p[C * D + c];
    }
    double max = java.util.Arrays.stream(z).max().getAsDouble();
    double sum = 0;
    for (int c = 0; c < C; c++) {
      z[c] = Math.exp(z[c] - max);
      sum += z[c];
    }
    for (int c = 0; c < C; c++) {
      z[c] /= sum;
    }
    return z;
  }

  /** The objective's mean loss written out term by term (stored layout, double). */
  private static double reference(
      double[] p,
      Dataset data,
      float[] targets,
      float[] weights,
      double balance,
      double synthWeight,
      Dataset synthetic,
      double trust,
      float[] anchor) {
    double loss = 0;
    for (int r = 0; r < data.size(); r++) {
      double[] q = softmax(p, data, r);
      for (int c = 0; c < C; c++) {
        loss -= weights[r] * targets[r * C + c] * Math.log(q[c]) / data.size();
        loss -= balance * Math.log(q[c]) / data.size();
      }
    }
    if (synthetic != null) {
      for (int k = 0; k < synthetic.size(); k++) {
        loss -=
            synthWeight * Math.log(softmax(p, synthetic, k)[synthetic.label(k)]) / synthetic.size();
      }
    }
    for (int i = 0; i < C * D; i++) {
      loss += trust / 2 * (p[i] - anchor[i]) * (p[i] - anchor[i]);
    }
    return loss;
  }

  private record Problem(
      Dataset data,
      float[] targets,
      float[] weights,
      Dataset synthetic,
      float[] anchor,
      float[] stored) {}

  private static Problem problem(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Dataset data = rows(random, N, LocalTraining.identity(N));
    float[] weights = new float[N];
    for (int r = 0; r < N; r++) {
      weights[r] = r % 3 == 1 ? 0 : 1;
    }
    int[] synthLabels = {0, 1, 2, 3, 4, 2};
    Dataset synthetic = rows(random, synthLabels.length, synthLabels);
    float[] anchor = new float[C * D + C];
    float[] stored = new float[C * D + C];
    for (int i = 0; i < stored.length; i++) {
      anchor[i] = (float) (0.2 * random.nextGaussian());
      stored[i] = (float) (0.2 * random.nextGaussian());
    }
    return new Problem(data, softTargets(random), weights, synthetic, anchor, stored);
  }

  /** Analytic gradient (stored layout) and the loss the objective returns, over the whole set. */
  private static float[] gradient(PseudoLabelObjective objective, Problem pr, double[] loss) {
    Batch batch = new Batch(N, D);
    batch.fill(pr.data(), LocalTraining.identity(N), 0, N);
    float[] working = objective.pack(pr.stored());
    float[] g = new float[working.length];
    loss[0] = objective.lossAndGradient(working, batch, g) / N;
    return objective.unpack(g);
  }

  private static double difference(
      Problem pr, int i, java.util.function.ToDoubleFunction<double[]> f) {
    double[] p = new double[pr.stored().length];
    for (int k = 0; k < p.length; k++) {
      p[k] = pr.stored()[k];
    }
    p[i] += STEP;
    double up = f.applyAsDouble(p);
    p[i] -= 2 * STEP;
    double down = f.applyAsDouble(p);
    return (up - down) / (2 * STEP);
  }

  @Test
  void everyTermsGradientMatchesCentralDifferences() {
    Problem pr = problem(11);
    double balance = 0.7;
    double synthWeight = 0.4;
    double trust = 0.3;
    PseudoLabelObjective objective =
        new PseudoLabelObjective(
            D,
            C,
            SCALE,
            pr.targets(),
            pr.weights(),
            balance,
            synthWeight,
            pr.synthetic(),
            pr.synthetic().size(),
            trust,
            pr.anchor());
    double[] loss = new double[1];
    float[] g = gradient(objective, pr, loss);
    double[] p0 = new double[pr.stored().length];
    for (int k = 0; k < p0.length; k++) {
      p0[k] = pr.stored()[k];
    }
    assertEquals(
        reference(
            p0,
            pr.data(),
            pr.targets(),
            pr.weights(),
            balance,
            synthWeight,
            pr.synthetic(),
            trust,
            pr.anchor()),
        loss[0],
        1e-4);
    double worst = 0;
    for (int i = 0; i < g.length; i++) {
      boolean bias = i >= C * D;
      // the balance term is a loss on the bias alone: W's gradient leaves it out
      double b = bias ? balance : 0;
      double numeric =
          difference(
              pr,
              i,
              p ->
                  reference(
                      p,
                      pr.data(),
                      pr.targets(),
                      pr.weights(),
                      b,
                      synthWeight,
                      pr.synthetic(),
                      trust,
                      pr.anchor()));
      worst = Math.max(worst, Math.abs(numeric - g[i]));
      assertEquals(numeric, g[i], 2e-3 * Math.max(1, Math.abs(numeric)), "parameter " + i);
    }
    assertTrue(worst > 0 || g.length == 0);
  }

  @Test
  void targetsEqualToThePredictionsGiveNoGradient() {
    Problem pr = problem(5);
    float[] targets = new float[N * C];
    double[] p = new double[pr.stored().length];
    for (int k = 0; k < p.length; k++) {
      p[k] = pr.stored()[k];
    }
    for (int r = 0; r < N; r++) {
      double[] q = softmax(p, pr.data(), r);
      for (int c = 0; c < C; c++) {
        targets[r * C + c] = (float) q[c];
      }
    }
    float[] ones = new float[N];
    java.util.Arrays.fill(ones, 1f);
    PseudoLabelObjective objective =
        new PseudoLabelObjective(D, C, SCALE, targets, ones, 0, 0, null, 0, 0, null);
    float[] g = gradient(objective, pr, new double[1]);
    for (float v : g) {
      assertEquals(0, v, 1e-5);
    }
  }

  @Test
  void aUniformMeanPredictionGivesNoBalanceGradient() {
    // zero weights and bias: every row predicts 1/C, the balance term's gradient C p - 1 is zero
    Problem pr = problem(3);
    float[] zeros = new float[N];
    PseudoLabelObjective objective =
        new PseudoLabelObjective(D, C, SCALE, pr.targets(), zeros, 5, 0, null, 0, 0, null);
    Batch batch = new Batch(N, D);
    batch.fill(pr.data(), LocalTraining.identity(N), 0, N);
    float[] g = new float[C * D + C];
    double loss = objective.lossAndGradient(new float[C * D + C], batch, g);
    for (float v : g) {
      assertEquals(0, v, 1e-6);
    }
    assertEquals(5 * C * Math.log(C), loss / N, 1e-9); // -sum_c log(1/C), times the weight
    // a bias favouring class 0 is pushed back: its gradient is positive, the others' negative
    float[] biased = new float[C * D + C];
    biased[C * D] = 1;
    objective.lossAndGradient(biased, batch, g);
    assertTrue(g[C * D] > 0, "class 0's bias gradient " + g[C * D]);
    for (int c = 1; c < C; c++) {
      assertTrue(g[C * D + c] < 0, "class " + c + "'s bias gradient " + g[C * D + c]);
    }
  }

  @Test
  void rowIndicesOutsideTheTargetsAreRefused() {
    Problem pr = problem(2);
    PseudoLabelObjective objective =
        new PseudoLabelObjective(
            D, C, SCALE, new float[3 * C], new float[3], 0, 0, null, 0, 0, null);
    Batch batch = new Batch(N, D);
    batch.fill(pr.data(), LocalTraining.identity(N), 0, N);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> objective.lossAndGradient(new float[C * D + C], batch, new float[C * D + C]));
    assertEquals("Row index 3 outside the 3 rows with soft targets", e.getMessage());
  }
}
