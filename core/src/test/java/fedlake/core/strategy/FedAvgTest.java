package fedlake.core.strategy;

import static fedlake.core.strategy.StrategyTests.assertBits;
import static fedlake.core.strategy.StrategyTests.assertOrderAndPartitionFree;
import static fedlake.core.strategy.StrategyTests.base;
import static fedlake.core.strategy.StrategyTests.settings;
import static fedlake.core.strategy.StrategyTests.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FedAvgTest {
  private final FedAvg strategy = new FedAvg();
  private final Model round0 = base(1, -1, 0.5, 0);

  @Test
  void weightedMeanByExamples() {
    List<UpdateParameters> updates =
        List.of(
            update("a", 1, 2.0, -0.625, 1.75, -3.75),
            update("b", 3, 1.0, -0.125, -0.25, 0.25),
            update("c", 4, 1.25, -0.25, 0.25, -0.75));
    Aggregate result = assertOrderAndPartitionFree(strategy, round0, settings(strategy), updates);
    // (a + 3 b + 4 c) / 8 = [(2 + 3 + 5) / 8, (-0.625 - 0.375 - 1) / 8, (1.75 - 0.75 + 1) / 8,
    // (-3.75 + 0.75 - 3) / 8]
    assertBits(new float[] {1.25f, -0.25f, 0.25f, -0.75f}, result.parameters());
    assertNull(result.controlVariate());
    assertTrue(result.serverState().isEmpty());
  }

  @Test
  void equalsTheExactWeightedMeanRoundedOnce() {
    Random random = new Random(20260301L);
    for (int trial = 0; trial < 20; trial++) {
      Model base = Fixtures.zeroModel(6, 5);
      int n = 1 + random.nextInt(12);
      java.math.BigDecimal[] sums = new java.math.BigDecimal[35];
      java.util.Arrays.fill(sums, java.math.BigDecimal.ZERO);
      long total = 0;
      Fold fold = strategy.newFold(base, settings(strategy));
      for (int k = 0; k < n; k++) {
        float[] weights = new float[30];
        float[] bias = new float[5];
        for (int i = 0; i < weights.length; i++) {
          weights[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 4));
        }
        for (int i = 0; i < bias.length; i++) {
          bias[i] = random.nextFloat() * 2 - 1;
        }
        long examples = 1 + random.nextInt(5000);
        Update u = Fixtures.update(base, "s" + k, examples, weights, bias).build();
        float[] values = Models.parameters(u);
        for (int i = 0; i < values.length; i++) {
          sums[i] =
              sums[i].add(
                  new java.math.BigDecimal(values[i])
                      .multiply(java.math.BigDecimal.valueOf(examples)));
        }
        total += examples;
        fold.add(new UpdateParameters("s" + k, examples, 1, values, new float[0]));
      }
      // the float64 mean of the exact sum: what a numpy float64 loop gives, without its order
      // dependence
      float[] expected = new float[sums.length];
      for (int i = 0; i < sums.length; i++) {
        expected[i] = (float) (sums[i].doubleValue() / total);
      }
      float[] actual = strategy.finish(base, fold, settings(strategy)).parameters();
      assertBits(expected, actual);
      assertEquals(Models.parameterCount(base), actual.length);
    }
  }
}
