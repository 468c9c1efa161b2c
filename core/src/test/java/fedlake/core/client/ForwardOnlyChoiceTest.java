package fedlake.core.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.train.LocalTrainer;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.ClientSpec;
import fedlake.schema.ForwardOnlySpec;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Forward-only training that chooses its directions: each step measures the scalar of every
 * candidate and applies the ones of largest |scalar|, which travel with their indices.
 */
class ForwardOnlyChoiceTest {
  private static final int DIMENSION = 24;
  private static final int CLASSES = 5;
  private final Dataset data =
      new GaussianClasses(CLASSES, DIMENSION, 0.8, 11).sample(30, 12, "site");
  private final HeadObjective objective = new HeadObjective(DIMENSION, CLASSES, 10f, null);

  private float[] base() {
    float[] base = new float[objective.parameterCount()];
    for (int i = 0; i < base.length; i++) {
      base[i] = (float) Math.sin(i * 0.37) * 0.05f; // not zeros: a base with rounding to carry
    }
    return base;
  }

  private ForwardOnlyTraining.Result train(float[] start, ForwardOnlySettings settings) {
    return ForwardOnlyTraining.train(
        objective, start, data, settings, 3, -123456789L, LocalTrainer.Progress.NONE);
  }

  @Test
  void largestKeepsTheTopByAbsoluteValueLowerIndexFirstOnTies() {
    int[] kept = new int[3];
    ForwardOnlyTraining.largest(new float[] {0.5f, -3f, 2f, -2f, 0.1f, 3f}, kept);
    assertArrayEquals(new int[] {1, 2, 5}, kept); // |3|, |3|, then |2| at 2 before |-2| at 3
    kept = new int[2];
    ForwardOnlyTraining.largest(new float[] {-0f, 7f, -9f, 8f}, kept);
    assertArrayEquals(new int[] {2, 3}, kept);
  }

  @Test
  void aStepKeepsTheCandidatesOfLargestScalarAndTheirMeasuredValues() {
    // one step: with no choice, all 24 candidates' scalars; with a choice, 6 of the same 24
    float[] start = base();
    float[] all = train(start, new ForwardOnlySettings(1e-3, 0.07, 24, 1, 16)).update().scalars();
    SeededUpdate chosen = train(start, new ForwardOnlySettings(1e-3, 0.07, 6, 1, 16, 24)).update();
    Integer[] byAbs = new Integer[24];
    for (int c = 0; c < 24; c++) {
      byAbs[c] = c;
    }
    Arrays.sort(byAbs, (a, b) -> Float.compare(Math.abs(all[b]), Math.abs(all[a])));
    int[] top = new int[6];
    for (int j = 0; j < 6; j++) {
      top[j] = byAbs[j];
    }
    Arrays.sort(top);
    assertTrue(Math.abs(all[byAbs[5]]) > Math.abs(all[byAbs[6]]), "no tie at the cut");
    for (int j = 0; j < 6; j++) {
      assertEquals(top[j], chosen.direction(0, j), "index " + j);
      assertEquals(
          Float.floatToRawIntBits(all[top[j]]),
          Float.floatToRawIntBits(chosen.scalars()[j]),
          "scalar " + j);
    }
    assertTrue(chosen.chosen());
  }

  @Test
  void everyCandidatesScalarIsItsDirectionalDerivative() {
    // finite-difference check: the central difference the site measures for candidate c equals
    // the exact gradient . z_c (backprop on the same batch), for candidates beyond the directions
    float[] start = base();
    int candidates = 12;
    float[] scalars =
        train(start, new ForwardOnlySettings(1e-3, 0.07, candidates, 1, 16)).update().scalars();
    // the first step's batch: the first 16 rows of the seeded shuffle, as the trainer draws them
    int[] order = LocalTraining.identity(data.size());
    LocalTraining.shuffle(order, new java.util.SplittableRandom(3));
    Batch batch = new Batch(16, DIMENSION);
    batch.fill(data, order, 0, 16);
    float[] working = objective.pack(start);
    float[] gradient = new float[working.length];
    objective.lossAndGradient(working, batch, gradient);
    float[] z = new float[working.length];
    for (int c = 0; c < candidates; c++) {
      Perturbations.fill(-123456789L, 0, c, z);
      float[] zw = objective.pack(z);
      double exact = 0;
      for (int i = 0; i < zw.length; i++) {
        exact += (double) gradient[i] * zw[i];
      }
      assertEquals(exact, scalars[c], 2e-3 * Math.max(1, Math.abs(exact)), "candidate " + c);
    }
  }

  @Test
  void replayOfChosenDirectionsIsBitIdenticalToTheTrainedParameters() {
    float[] start = base();
    ForwardOnlyTraining.Result result =
        train(start, new ForwardOnlySettings(1e-3, 0.07, 4, 25, 16, 40));
    SeededUpdate update = result.update();
    assertEquals(100, update.scalars().length);
    assertEquals(100, update.indices().length);
    float[] replayed = update.replay(start);
    for (int i = 0; i < start.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(result.parameters()[i]),
          Float.floatToRawIntBits(replayed[i]),
          "parameter " + i);
    }
    // the indices matter: read as directions 0-3 of each step, the replay lands elsewhere
    float[] unchosen =
        new SeededUpdate(update.seed(), update.learningRate(), 4, update.scalars()).replay(start);
    assertFalse(Arrays.equals(replayed, unchosen));
    boolean beyond = false;
    for (byte index : update.indices()) {
      beyond |= (index & 0xFF) >= 4;
    }
    assertTrue(beyond, "some chosen directions are beyond the first four");
    // the payload: 16 bytes of seed, step size and directions, 4 a scalar, 1 an index
    assertEquals(16 + 4 * 100 + 100, update.bytes());
  }

  @Test
  void withoutAChoiceTheUpdateIsTodaysBitForBit() {
    // candidates = directions: no indices, and the same scalars and parameters as the 5-argument
    // settings; ForwardOnlyTest and EdgeForwardOnlyTest, unchanged, pin the rest of today's
    // behaviour
    float[] start = base();
    ForwardOnlyTraining.Result plain = train(start, new ForwardOnlySettings(1e-3, 0.07, 4, 25, 16));
    ForwardOnlyTraining.Result same =
        train(start, new ForwardOnlySettings(1e-3, 0.07, 4, 25, 16, 4));
    assertEquals(0, plain.update().indices().length);
    assertFalse(plain.update().chosen());
    assertArrayEquals(plain.update().scalars(), same.update().scalars(), 0f);
    assertArrayEquals(plain.parameters(), same.parameters(), 0f);
    assertEquals(16 + 4 * 100, plain.update().bytes());
  }

  @Test
  void choosingTheDirectionsLowersTheLossFasterAtTheSameUpload() {
    Dataset easy = new GaussianClasses(3, 8, 0.5, 21).sample(40, 22, "site");
    HeadObjective head = new HeadObjective(8, 3, 10f, null);
    float[] start = new float[head.parameterCount()];
    double plain = loss(head, easy, start, new ForwardOnlySettings(1e-3, 0.02, 2, 60, 16));
    double chosen = loss(head, easy, start, new ForwardOnlySettings(1e-3, 0.02, 2, 60, 16, 20));
    assertTrue(chosen < 0.8 * plain, "loss without a choice " + plain + ", with " + chosen);
  }

  private static double loss(
      HeadObjective head, Dataset data, float[] start, ForwardOnlySettings settings) {
    ForwardOnlyTraining.Result r =
        ForwardOnlyTraining.train(head, start, data, settings, 1, 2, LocalTrainer.Progress.NONE);
    return head.classifier(r.parameters()).evaluate(data).loss();
  }

  @Test
  void badIndicesAndCandidatesAreRefusedWithTheReason() {
    assertNull(SeededUpdate.indexProblem(new byte[] {3, 0, 0, (byte) 255}, 4, 2));
    assertEquals(
        "seededIndices chooses direction 7 twice in step 1",
        SeededUpdate.indexProblem(new byte[] {7, 1, 7, 7}, 4, 2));
    assertEquals(
        "seededIndices chooses direction 200 twice in step 0",
        SeededUpdate.indexProblem(new byte[] {(byte) 200, (byte) 200}, 2, 2));
    assertEquals(
        "seededIndices has 3 indices, it needs one per scalar (4)",
        SeededUpdate.indexProblem(new byte[] {0, 1, 2}, 4, 2));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new SeededUpdate(1, 0.1f, 2, new float[4], new byte[] {1, 1, 0, 1}));
    assertEquals("seededIndices chooses direction 1 twice in step 0", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ForwardOnlySettings(1e-3, 0.05, 10, 40, 32, 5));
    assertEquals(
        "forward-only candidates must be between the directions (10) and 256, got 5",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ForwardOnlySettings(1e-3, 0.05, 10, 40, 32, 257));
    assertEquals(
        "forward-only candidates must be between the directions (10) and 256, got 257",
        e.getMessage());
  }

  @Test
  void theSpecsCandidatesDefaultToTheDirections() {
    ClientSpec spec =
        ClientSpec.newBuilder()
            .setAlgorithm(ClientAlgorithmName.SGD)
            .setEpochs(5)
            .setBatchSize(16)
            .setLearningRate(0.3)
            .setOptimizer("forward-only")
            .setBudgets(Map.of())
            .setForwardOnly(new ForwardOnlySpec(1e-3, 0.05, 10, 40, 32, null))
            .build();
    ForwardOnlySettings none = ForwardOnlySpecs.settings(spec);
    assertEquals(10, none.candidates());
    assertFalse(none.chooses());
    spec.setForwardOnly(new ForwardOnlySpec(1e-3, 0.05, 10, 40, 32, 100));
    ForwardOnlySettings hundred = ForwardOnlySpecs.settings(spec);
    assertEquals(100, hundred.candidates());
    assertTrue(hundred.chooses());
    spec.setForwardOnly(new ForwardOnlySpec(1e-3, 0.05, 10, 40, 32, 300));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ForwardOnlySpecs.settings(spec));
    assertEquals(
        "client.forwardOnly: forward-only candidates must be between the directions (10) and 256,"
            + " got 300",
        e.getMessage());
  }
}
