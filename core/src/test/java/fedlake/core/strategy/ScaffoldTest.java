package fedlake.core.strategy;

import static fedlake.core.strategy.StrategyTests.assertBits;
import static fedlake.core.strategy.StrategyTests.assertOrderAndPartitionFree;
import static fedlake.core.strategy.StrategyTests.base;
import static fedlake.core.strategy.StrategyTests.next;
import static fedlake.core.strategy.StrategyTests.settings;
import static fedlake.core.strategy.StrategyTests.update;
import static fedlake.core.strategy.StrategyTests.withControlDelta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ScaffoldTest {
  private final Scaffold strategy = new Scaffold();
  private final Model round0 =
      Model.newBuilder(base(1, -1, 0.5, 0))
          .setControlVariate(FloatArrays.asList(Fixtures.floats(0.5, -0.25, 0, 1)))
          .build();

  // weighted mean (a + 3 b + 4 c) / 8 = [5/4, -1/4, 1/4, -3/4]: d = [1/4, 3/4, -1/4, -3/4];
  // c carries no control delta (it counts as no change but keeps its weight)
  private final List<UpdateParameters> round1 =
      List.of(
          withControlDelta(update("a", 1, 2.0, -0.625, 1.75, -3.75), 1, 0, -2, 0.5),
          withControlDelta(update("b", 3, 1.0, -0.125, -0.25, 0.25), 0, 1, 0, -0.5),
          update("c", 4, 1.25, -0.25, 0.25, -0.75));

  @Test
  void globalStepSizeMovesPartWayToTheMean() {
    Aggregate result =
        assertOrderAndPartitionFree(strategy, round0, settings(strategy, "server-lr", 0.5), round1);
    // x = x0 + 1/2 d = [1 + 1/8, -1 + 3/8, 1/2 - 1/8, 0 - 3/8]
    assertBits(new float[] {1.125f, -0.625f, 0.375f, -0.375f}, result.parameters());
    // mean control delta = (1 a + 3 b) / 8 = [1/8, 3/8, -2/8, (0.5 - 1.5) / 8]; c = [0.5, -0.25, 0,
    // 1] + that
    assertBits(new float[] {0.625f, 0.125f, -0.25f, 0.875f}, result.controlVariate());
    assertTrue(result.serverState().isEmpty());
  }

  @Test
  void defaultIsTheWeightedMeanAndTheNextRoundBuildsOnTheNewControlVariate() {
    Aggregate first = assertOrderAndPartitionFree(strategy, round0, settings(strategy), round1);
    assertBits(new float[] {1.25f, -0.25f, 0.25f, -0.75f}, first.parameters());
    Model round1Model = next(round0, strategy, first);
    List<UpdateParameters> round2 =
        List.of(
            withControlDelta(update("a", 1, 1, 2, 3, 4), 0.5, 0.5, 0.5, 0.5),
            withControlDelta(update("b", 1, 3, 2, 1, 0), -0.5, 0.5, 0, 1));
    Aggregate second =
        assertOrderAndPartitionFree(strategy, round1Model, settings(strategy), round2);
    // x = (a + b) / 2; c = [0.625, 0.125, -0.25, 0.875] + [0, 1/2, 1/4, 3/4]
    assertBits(new float[] {2, 2, 2, 2}, second.parameters());
    assertBits(new float[] {0.625f, 0.625f, 0f, 1.625f}, second.controlVariate());
  }

  @Test
  void emptyBaseControlVariateIsZeros() {
    Model plain = base(0, 0, 0, 0);
    Aggregate result =
        StrategyTests.aggregate(
            strategy,
            plain,
            settings(strategy),
            List.of(withControlDelta(update("a", 2, 1, 1, 1, 1), 1, 2, 3, 4)));
    assertBits(new float[] {1, 2, 3, 4}, result.controlVariate());
  }

  @Test
  void defaultsGiveTheExactWeightedMeansBitForBit() {
    Random random = new Random(7L);
    for (int trial = 0; trial < 20; trial++) {
      Model base = Fixtures.zeroModel(6, 5);
      if (trial % 2 == 1) { // odd trials: a nonzero control variate; even: an empty one
        float[] c = new float[35];
        for (int i = 0; i < c.length; i++) {
          c[i] = (float) random.nextGaussian();
        }
        base = Model.newBuilder(base).setControlVariate(FloatArrays.asList(c)).build();
      }
      float[] c0 = FloatArrays.toArray(base.getControlVariate());
      java.math.BigDecimal[] sums = new java.math.BigDecimal[35];
      java.math.BigDecimal[] deltas = new java.math.BigDecimal[35];
      java.util.Arrays.fill(sums, java.math.BigDecimal.ZERO);
      java.util.Arrays.fill(deltas, java.math.BigDecimal.ZERO);
      long total = 0;
      Fold fold = strategy.newFold(base, settings(strategy));
      int n = 1 + random.nextInt(10);
      for (int k = 0; k < n; k++) {
        float[] weights = new float[30];
        float[] bias = new float[5];
        float[] delta = new float[random.nextInt(4) == 0 ? 0 : 35];
        for (int i = 0; i < weights.length; i++) {
          weights[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(5) - 3));
        }
        for (int i = 0; i < bias.length; i++) {
          bias[i] = random.nextFloat() - 0.5f;
        }
        for (int i = 0; i < delta.length; i++) {
          delta[i] = (float) (random.nextGaussian() * 0.01);
        }
        long examples = 1 + random.nextInt(3000);
        Update u =
            Fixtures.update(base, "s" + k, examples, weights, bias)
                .setControlDelta(FloatArrays.asList(delta))
                .build();
        float[] values = Models.parameters(u);
        for (int i = 0; i < 35; i++) {
          java.math.BigDecimal weight = java.math.BigDecimal.valueOf(examples);
          sums[i] = sums[i].add(new java.math.BigDecimal(values[i]).multiply(weight));
          deltas[i] =
              deltas[i].add(
                  new java.math.BigDecimal(delta.length == 0 ? 0f : delta[i]).multiply(weight));
        }
        total += examples;
        fold.add(new UpdateParameters("s" + k, examples, 1, values, delta));
      }
      Aggregate result = strategy.finish(base, fold, settings(strategy));
      // by hand: x = exact weighted mean rounded once; c = c0 + weighted mean of the control deltas
      // (no delta: no change)
      float[] x = new float[35];
      float[] c = new float[35];
      for (int i = 0; i < 35; i++) {
        x[i] = (float) (sums[i].doubleValue() / total);
        c[i] = (float) ((c0.length == 0 ? 0 : c0[i]) + deltas[i].doubleValue() / total);
      }
      assertBits(x, result.parameters());
      assertBits(c, result.controlVariate());
    }
  }

  @Test
  void needsScaffoldClients() {
    assertEquals(ClientAlgorithmName.SCAFFOLD, strategy.requiredClient());
    assertEquals(1.0, settings(strategy).get("server-lr"));
  }
}
