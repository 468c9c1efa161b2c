package fedlake.core.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.ClientSpec;
import fedlake.schema.Model;
import fedlake.schema.SiteBudgetSpec;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Forward-only training (SPSA), its replay and site budgets, on problems with known answers. */
class ForwardOnlyTest {
  /**
   * x = (1, 0), label 0, zero 2 x 2 head at logit scale 10: gradient W (-5, 0; 5, 0), b (-.5, .5).
   */
  private static final Dataset ONE = Dataset.of("one", new float[] {1, 0}, new int[] {0}, 2);

  private static final float[] GRADIENT = {-5, 0, 5, 0, -0.5f, 0.5f};

  @Test
  void perturbationsFollowTheDocumentedGenerator() {
    // reference values from an independent implementation of the generator in the Javadoc
    // (Python, arbitrary-precision integers masked to 64 bits)
    assertEquals(5197578548964807871L, Perturbations.key(0, 0, 0));
    assertEquals(-4349046414139309546L, Perturbations.key(42, 3, 1));
    float[] z = new float[70];
    Perturbations.fill(0, 0, 0, z);
    assertArrayEquals(new float[] {1, 1, -1, -1, 1, -1}, java.util.Arrays.copyOf(z, 6));
    Perturbations.fill(42, 3, 1, z);
    assertArrayEquals(new float[] {1, -1, -1, 1, 1, -1}, java.util.Arrays.copyOf(z, 6));
    assertArrayEquals(
        new float[] {-1, -1, 1, -1, 1, 1}, java.util.Arrays.copyOfRange(z, 64, 70)); // 2nd word
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Perturbations.key(1, -1, 0));
    assertEquals("A perturbation needs step and direction >= 0, got -1 and 0", e.getMessage());
  }

  @Test
  void oneStepScalarIsTheDirectionalDerivativeAndTheStepIsMinusLrTimesItAlongZ() {
    HeadObjective objective = new HeadObjective(2, 2, 10f, null);
    float[] start = new float[6];
    ForwardOnlySettings settings = new ForwardOnlySettings(1e-3, 0.1, 1, 1, 1);
    ForwardOnlyTraining.Result result =
        ForwardOnlyTraining.train(
            objective, start, ONE, settings, 1, 77, LocalTrainer.Progress.NONE);
    float[] z = new float[6];
    Perturbations.fill(77, 0, 0, z);
    double directional = 0;
    for (int i = 0; i < 6; i++) {
      directional += GRADIENT[i] * z[i];
    }
    float scalar = result.update().scalars()[0];
    // central difference: exact up to O(eps^2) and float rounding of the losses
    assertEquals(directional, scalar, 2e-3);
    float coefficient = (float) (0.1f * (double) scalar);
    for (int i = 0; i < 6; i++) {
      assertEquals(-coefficient * z[i], result.parameters()[i], 0f);
    }
    assertEquals(1, result.update().steps());
    assertEquals(Math.log(2), result.meanLoss(), 1e-6);
  }

  @Test
  void scalarsTimesPerturbationsAverageToTheGradient() {
    // E[(g.z) z] = g for Rademacher z: 4000 directions at one point (learning rate tiny)
    HeadObjective objective = new HeadObjective(2, 2, 10f, null);
    int directions = 4000;
    ForwardOnlyTraining.Result result =
        ForwardOnlyTraining.train(
            objective,
            new float[6],
            ONE,
            new ForwardOnlySettings(1e-3, 1e-9, directions, 1, 1),
            1,
            5,
            LocalTrainer.Progress.NONE);
    double[] mean = new double[6];
    float[] z = new float[6];
    for (int d = 0; d < directions; d++) {
      Perturbations.fill(5, 0, d, z);
      for (int i = 0; i < 6; i++) {
        mean[i] += result.update().scalars()[d] * z[i] / directions;
      }
    }
    // per coordinate the estimate's standard deviation is |g| / sqrt(4000) = 0.11
    for (int i = 0; i < 6; i++) {
      assertEquals(GRADIENT[i], mean[i], 0.5, "coordinate " + i);
    }
  }

  @Test
  void replayFromSeedAndScalarsIsBitIdenticalToTheTrainedParameters() {
    Dataset data = new GaussianClasses(5, 24, 0.8, 11).sample(30, 12, "site");
    Head head = Head.zeros(24, 5, 10f);
    float[] base = Models.parameters(Models.initialHead(head, 0, "zeros", false, 0));
    for (int i = 0; i < base.length; i++) {
      base[i] = (float) Math.sin(i * 0.37) * 0.05f; // not zeros: a base with rounding to carry
    }
    HeadObjective objective = new HeadObjective(24, 5, 10f, null);
    ForwardOnlyTraining.Result result =
        ForwardOnlyTraining.train(
            objective,
            base,
            data,
            new ForwardOnlySettings(1e-3, 0.07, 4, 25, 16),
            3,
            -123456789L,
            LocalTrainer.Progress.NONE);
    assertEquals(100, result.update().scalars().length);
    float[] replayed = result.update().replay(base);
    for (int i = 0; i < base.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(result.parameters()[i]),
          Float.floatToRawIntBits(replayed[i]),
          "parameter " + i);
    }
    assertTrue(
        !java.util.Arrays.equals(base, replayed), "the replay must have moved the parameters");
    // the payload: 16 bytes of seed, step size and directions, 4 a scalar
    assertEquals(16 + 4 * 100, result.update().bytes());
  }

  @Test
  void forwardOnlyTrainingLowersTheLoss() {
    Dataset data = new GaussianClasses(3, 8, 0.5, 21).sample(40, 22, "site");
    HeadObjective objective = new HeadObjective(8, 3, 10f, null);
    float[] start = new float[objective.parameterCount()];
    ForwardOnlyTraining.Result result =
        ForwardOnlyTraining.train(
            objective,
            start,
            data,
            new ForwardOnlySettings(1e-3, 0.02, 4, 300, 16),
            1,
            2,
            LocalTrainer.Progress.NONE);
    double before = objective.classifier(start).evaluate(data).loss();
    double after = objective.classifier(result.parameters()).evaluate(data).loss();
    assertEquals(Math.log(3), before, 1e-6);
    assertTrue(after < 0.5 * before, "loss " + before + " -> " + after);
  }

  @Test
  void clientRoundTrainsForwardOnlyUnderABudgetAndCapsBackpropSteps() {
    Dataset data = new GaussianClasses(3, 8, 0.5, 21).sample(40, 22, "site");
    Model model = Models.initialHead(Head.zeros(8, 3, 10f), 0, "zeros", false, 0);
    TrainSettings train = new TrainSettings(5, 16, 0.3, 0, 0, 4, false);
    ClientSettings backprop = new ClientSettings(ClientAlgorithmName.SGD, train, 0);
    ClientRound.Result full =
        ClientRound.run(
            model, 0, data, backprop, SiteState.empty(), l -> {}, LocalTrainer.Progress.NONE);
    assertEquals(5 * 8, full.steps()); // 120 rows, batch 16: 8 steps an epoch
    assertNull(full.seeded());
    ClientRound.Result capped =
        ClientRound.run(
            model,
            0,
            data,
            backprop.with(new SiteBudget(3, null)),
            SiteState.empty(),
            l -> {},
            LocalTrainer.Progress.NONE);
    assertEquals(3, capped.steps());
    ClientRound.Result forward =
        ClientRound.run(
            model,
            0,
            data,
            backprop.with(new SiteBudget(7, new ForwardOnlySettings(1e-3, 0.05, 2, 20, 16))),
            SiteState.empty(),
            l -> {},
            LocalTrainer.Progress.NONE);
    assertEquals(7, forward.steps()); // the budget caps the SPSA steps too
    assertEquals(14, forward.seeded().scalars().length);
    float[] replayed = forward.seeded().replay(Models.parameters(model));
    assertArrayEquals(forward.parameters(), replayed, 0f);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ClientRound.run(
                    model,
                    0,
                    data,
                    new ClientSettings(ClientAlgorithmName.PROX, train, 0.1)
                        .with(new SiteBudget(null, ForwardOnlySettings.defaults())),
                    SiteState.empty(),
                    l -> {},
                    LocalTrainer.Progress.NONE));
    assertEquals(
        "Forward-only training runs with client algorithm sgd only, the spec names prox",
        e.getMessage());
  }

  private static ClientSpec spec(String optimizer, Map<String, SiteBudgetSpec> budgets) {
    return ClientSpec.newBuilder()
        .setAlgorithm(ClientAlgorithmName.SGD)
        .setEpochs(5)
        .setBatchSize(16)
        .setLearningRate(0.3)
        .setOptimizer(optimizer)
        .setBudgets(budgets)
        .build();
  }

  @Test
  void budgetsComeFromTheSiteIdThenItsClassThenTheSpec() {
    Map<String, SiteBudgetSpec> budgets =
        Map.of(
            "weak", new SiteBudgetSpec(1, "forward-only"), "site-7", new SiteBudgetSpec(20, null));
    ClientSpec spec = spec("backprop", budgets);
    SiteBudget own = ClientSettings.of(spec, 1, "site-7", "weak").budget();
    assertEquals(20, own.localSteps());
    assertNull(own.forwardOnly());
    SiteBudget weak = ClientSettings.of(spec, 1, "site-1", "weak").budget();
    assertEquals(1, weak.localSteps());
    assertEquals(ForwardOnlySettings.defaults(), weak.forwardOnly());
    assertEquals(SiteBudget.NONE, ClientSettings.of(spec, 1, "site-1", null).budget());
    assertEquals(
        ForwardOnlySettings.defaults(),
        ClientSettings.of(spec("forward-only", Map.of()), 1).budget().forwardOnly());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ClientSettings.of(
                    spec("backprop", Map.of("weak", new SiteBudgetSpec(null, "zeroth"))),
                    1,
                    "site-1",
                    "weak"));
    assertEquals(
        "client.budgets[weak].optimizer: unknown optimizer 'zeroth' (expected backprop or"
            + " forward-only)",
        e.getMessage());
  }
}
