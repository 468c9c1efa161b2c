package fedlake.core.aggregate;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FedAvgTest {
  /** 2 classes x 2 dimensions: 4 weights then 2 biases. */
  private final Model base = Fixtures.zeroModel(2, 2);

  private Update update(String site, long examples, float[] weights, float[] bias) {
    return Fixtures.update(base, site, examples, weights, bias).build();
  }

  private float[] average(List<Update> updates) {
    Strategy.Accumulator sum = new FedAvg().newAccumulator(base);
    for (Update u : updates) {
      sum.add(u, Models.parameters(u));
    }
    return sum.result(base);
  }

  @Test
  void twoClientsWeightedByExamples() {
    Update a = update("a", 1, floats(1, -2, 0.5, 0), floats(0.25, -1));
    Update b = update("b", 3, floats(3, 4, -1.5, -0.75), floats(0.25, 1));
    // (1 * a + 3 * b) / 4, worked out by hand
    float[] expected = {2.5f, 2.5f, -1f, -0.5625f, 0.25f, 0.5f};
    assertArrayEquals(expected, average(List.of(a, b)), 0f);
  }

  @Test
  void threeClientsWithDifferentExampleCounts() {
    Update a = update("a", 2, floats(1, -1, 0.5, 2), floats(0, -0.5));
    Update b = update("b", 5, floats(0.5, 0.25, -0.75, -1), floats(1, 0.125));
    Update c = update("c", 1, floats(-4, 3, 8, 0), floats(-8, 0.5));
    // (2a + 5b + c) / 8: w0 = (2 + 2.5 - 4) / 8, w1 = (-2 + 1.25 + 3) / 8, w2 = (1 - 3.75 + 8) / 8,
    // w3 = (4 - 5 + 0) / 8, b0 = (0 + 5 - 8) / 8, b1 = (-1 + 0.625 + 0.5) / 8
    float[] expected = {0.0625f, 0.28125f, 0.65625f, -0.125f, -0.375f, 0.015625f};
    assertArrayEquals(expected, average(List.of(a, b, c)), 0f);
  }

  @Test
  void roundsTheExactMeanOnceToFloat() {
    Update a = update("a", 1, floats(1, -1, 2, 0), floats(0, 0));
    Update b = update("b", 1, floats(0, 0, 0, 0), floats(0, 0));
    Update c = update("c", 1, floats(0, 0, 0, 0.1), floats(0, 0));
    float[] mean = average(List.of(a, b, c));
    assertEquals(0.33333334f, mean[0], 0f);
    assertEquals(-0.33333334f, mean[1], 0f);
    assertEquals(0.6666667f, mean[2], 0f);
    assertEquals((float) (0.1f / 3.0), mean[3], 0f);
  }

  @Test
  void oneClientGivesItsOwnParametersBack() {
    float[] weights = floats(0.1, -0.7, 3.3e-5, 1234.5);
    float[] bias = floats(-0.3, 0.9);
    float[] mean = average(List.of(update("a", 37, weights, bias)));
    float[] expected = {weights[0], weights[1], weights[2], weights[3], bias[0], bias[1]};
    assertArrayEquals(expected, mean, 0f);
  }

  @Test
  void countsUpdatesAndIsEmptyWithoutAny() {
    Strategy.Accumulator sum = new FedAvg().newAccumulator(base);
    assertEquals(0, sum.count());
    assertNull(sum.result(base));
    Update a = update("a", 2, floats(1, 1, 1, 1), floats(1, 1));
    sum.add(a, Models.parameters(a));
    assertEquals(1, sum.count());
    assertEquals("fedavg", new FedAvg().name());
  }

  // ---- order independence -------------------------------------------------------------------

  /** Six updates whose values span ten orders of magnitude, so float sums depend on the order. */
  private List<Update> awkwardUpdates() {
    Random random = new Random(20240611L);
    List<Update> updates = new ArrayList<>();
    for (int u = 0; u < 6; u++) {
      float[] weights = new float[4];
      float[] bias = new float[2];
      for (int i = 0; i < 6; i++) {
        float v = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(10) - 6));
        if (i < 4) {
          weights[i] = v;
        } else {
          bias[i - 4] = v;
        }
      }
      updates.add(update("site-" + u, 1 + random.nextInt(5000), weights, bias));
    }
    return updates;
  }

  private static void permutations(List<Update> prefix, List<Update> rest, List<List<Update>> out) {
    if (rest.isEmpty()) {
      out.add(prefix);
      return;
    }
    for (int i = 0; i < rest.size(); i++) {
      List<Update> nextPrefix = new ArrayList<>(prefix);
      nextPrefix.add(rest.get(i));
      List<Update> nextRest = new ArrayList<>(rest);
      nextRest.remove(i);
      permutations(nextPrefix, nextRest, out);
    }
  }

  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }

  @Test
  void everyFoldingOrderGivesBitIdenticalFloats() {
    List<Update> updates = awkwardUpdates();
    List<List<Update>> orders = new ArrayList<>();
    permutations(List.of(), updates, orders);
    assertEquals(720, orders.size());
    int[] reference = bits(average(updates));
    Set<String> naiveResults = new HashSet<>();
    for (List<Update> order : orders) {
      assertArrayEquals(reference, bits(average(order)), "order " + order.stream().map(Update::getSite).toList());
      naiveResults.add(Arrays.toString(naiveFloatMean(order)));
    }
    // the data is hard enough that a plain float running sum does depend on the order
    assertTrue(naiveResults.size() > 1, "plain float sums gave one result for every order: " + naiveResults);
  }

  private float[] naiveFloatMean(List<Update> order) {
    float[] sum = new float[6];
    float total = 0;
    for (Update u : order) {
      float[] p = Models.parameters(u);
      for (int i = 0; i < p.length; i++) {
        sum[i] += p[i] * u.getNumExamples();
      }
      total += u.getNumExamples();
    }
    for (int i = 0; i < sum.length; i++) {
      sum[i] /= total;
    }
    return sum;
  }

  @Test
  void partialAccumulatorsMergedInAnyGroupingGiveBitIdenticalFloats() {
    List<Update> updates = awkwardUpdates();
    int[] reference = bits(average(updates));
    Random random = new Random(7);
    FedAvg strategy = new FedAvg();
    for (int trial = 0; trial < 200; trial++) {
      List<Update> shuffled = new ArrayList<>(updates);
      java.util.Collections.shuffle(shuffled, random);
      // cut into 1..6 partitions of random sizes, some possibly empty
      List<Strategy.Accumulator> parts = new ArrayList<>();
      int partitions = 1 + random.nextInt(6);
      for (int p = 0; p < partitions; p++) {
        parts.add(strategy.newAccumulator(base));
      }
      for (Update u : shuffled) {
        parts.get(random.nextInt(partitions)).add(u, Models.parameters(u));
      }
      // merge pairs chosen at random until one is left (any tree shape)
      while (parts.size() > 1) {
        Strategy.Accumulator a = parts.remove(random.nextInt(parts.size()));
        Strategy.Accumulator b = parts.remove(random.nextInt(parts.size()));
        parts.add(random.nextBoolean() ? a.merge(b) : b.merge(a));
      }
      Strategy.Accumulator merged = parts.get(0);
      assertEquals(6, merged.count());
      assertArrayEquals(reference, bits(merged.result(base)), "trial " + trial);
    }
  }
}
