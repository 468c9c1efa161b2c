package fedlake.core.aggregate;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fedlake.core.Fixtures;
import fedlake.core.model.CacheModel;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.util.List;
import org.junit.jupiter.api.Test;

/** FedAvg and SCAFFOLD over cache models: keys are averaged like every other parameter, not re-normalised. */
class CacheAggregationTest {
  private static Model cacheBase(boolean scaffold) {
    return Models.initialCache(new CacheModel(Head.zeros(2, 2, 10f), floats(1, 0, 0, 1), new int[] {0, 1}, 1f, 5.5f), 0,
        "synthetic", scaffold, 0L);
  }

  private static Update update(Model base, String site, long examples, float[] keys) {
    return Fixtures.update(base, site, examples, new float[4], new float[2]).setCacheKeys(FloatArrays.asList(keys)).build();
  }

  @Test
  void fedAvgOfKeysWeightedByExamples() {
    Model base = cacheBase(false);
    Update a = update(base, "a", 1, floats(1, 0, 0, 1));
    Update b = update(base, "b", 3, floats(0, 1, 1, -0.5));
    Strategy.Accumulator sum = new FedAvg().newAccumulator(base);
    for (Update u : List.of(a, b)) {
      sum.add(u, Models.parameters(u));
    }
    // (1 * a + 3 * b) / 4 = (0.25, 0.75, 0.75, -0.125): key 0 has length 0.79, and stays so
    float[] expected = {0, 0, 0, 0, 0, 0, 0.25f, 0.75f, 0.75f, -0.125f};
    float[] mean = sum.result(base);
    assertArrayEquals(expected, mean, 0f);
    Model next = Models.derive(base, mean, 1, FedAvg.NAME, 2, 0L);
    assertEquals(Models.CACHE, next.getKind());
    assertEquals(List.of(0, 1), next.getCacheLabels());
    assertArrayEquals(floats(0.25, 0.75, 0.75, -0.125), FloatArrays.toArray(next.getCacheKeys()), 0f);
  }

  @Test
  void scaffoldControlVariateCoversTheKeys() {
    Model base = cacheBase(true);
    Update a = Update.newBuilder(update(base, "a", 1, floats(1, 0, 0, 1)))
        .setControlDelta(FloatArrays.asList(floats(0, 0, 0, 0, 0, 0, 0.5, 0, 0, 0))).build();
    Update b = Update.newBuilder(update(base, "b", 3, floats(1, 0, 0, 1)))
        .setControlDelta(FloatArrays.asList(floats(0, 0, 0, 0, 0, 0, 0, 0, -1, 0))).build();
    Strategy strategy = Strategy.forModel(base);
    assertEquals(Scaffold.NAME, strategy.name());
    Strategy.Accumulator sum = strategy.newAccumulator(base);
    sum.add(a, Models.parameters(a));
    sum.add(b, Models.parameters(b));
    // c = 0 + (1 * dc_a + 3 * dc_b) / 4
    assertArrayEquals(floats(0, 0, 0, 0, 0, 0, 0.125, 0, -0.75, 0), sum.controlVariate(base), 0f);
  }
}
