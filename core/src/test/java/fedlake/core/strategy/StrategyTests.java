package fedlake.core.strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Shared helpers of the strategy tests: four-parameter models, updates, folding in every order and
 * split.
 */
final class StrategyTests {
  private StrategyTests() {}

  /** A head of 2 classes x 1 dimension: parameters w0, w1, b0, b1. */
  static Model base(double w0, double w1, double b0, double b1) {
    return Fixtures.headModel(0, 1, 2, Fixtures.floats(w0, w1), Fixtures.floats(b0, b1));
  }

  /** An update with one local step and no control delta. */
  static UpdateParameters update(String site, long examples, double... parameters) {
    return new UpdateParameters(site, examples, 1, Fixtures.floats(parameters), new float[0]);
  }

  static UpdateParameters withSteps(UpdateParameters u, int steps) {
    return new UpdateParameters(u.site(), u.numExamples(), steps, u.parameters(), u.controlDelta());
  }

  static UpdateParameters withControlDelta(UpdateParameters u, double... delta) {
    return new UpdateParameters(
        u.site(), u.numExamples(), u.localSteps(), u.parameters(), Fixtures.floats(delta));
  }

  static StrategySettings settings(Strategy strategy, Object... nameValue) {
    Map<String, Double> given = new TreeMap<>();
    for (int i = 0; i < nameValue.length; i += 2) {
      given.put((String) nameValue[i], ((Number) nameValue[i + 1]).doubleValue());
    }
    return StrategySettings.of(strategy, given);
  }

  /** Folds {@code updates} in one fold, in the given order, and finishes. */
  static Aggregate aggregate(
      Strategy strategy, Model base, StrategySettings settings, List<UpdateParameters> updates) {
    Fold fold = strategy.newFold(base, settings);
    for (UpdateParameters u : updates) {
      fold.add(u);
    }
    assertEquals(updates.size(), fold.count());
    return strategy.finish(base, fold, settings);
  }

  /**
   * The model the round job would publish from {@code aggregate}: parameters, control variate and
   * server state.
   */
  static Model next(Model base, Strategy strategy, Aggregate aggregate) {
    return Models.derive(base, aggregate, base.getRound() + 1, strategy.name(), 1, 0, 0L);
  }

  /** Asserts exact equality of floats (bit for bit, -0 differs from 0). */
  static void assertBits(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length, "length");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(expected[i]),
          Float.floatToRawIntBits(actual[i]),
          "index "
              + i
              + ": expected "
              + expected[i]
              + ", got "
              + actual[i]
              + " in "
              + Arrays.toString(actual));
    }
  }

  static void assertSame(Aggregate expected, Aggregate actual) {
    assertBits(expected.parameters(), actual.parameters());
    if (expected.controlVariate() == null) {
      assertEquals(null, actual.controlVariate());
    } else {
      assertBits(expected.controlVariate(), actual.controlVariate());
    }
    assertEquals(expected.serverState().keySet(), actual.serverState().keySet());
    for (String name : expected.serverState().keySet()) {
      assertBits(expected.serverState().get(name), actual.serverState().get(name));
    }
  }

  /**
   * Every ordering of {@code updates}, and every split of every ordering into two folds merged
   * either way round, gives bit-identical aggregates; returns that aggregate.
   */
  static Aggregate assertOrderAndPartitionFree(
      Strategy strategy, Model base, StrategySettings settings, List<UpdateParameters> updates) {
    Aggregate reference = aggregate(strategy, base, settings, updates);
    int checked = 0;
    for (List<UpdateParameters> order : permutations(updates)) {
      assertSame(reference, aggregate(strategy, base, settings, order));
      for (int cut = 0; cut <= order.size(); cut++) {
        for (boolean leftIntoRight : new boolean[] {false, true}) {
          Fold left = strategy.newFold(base, settings);
          Fold right = strategy.newFold(base, settings);
          order.subList(0, cut).forEach(left::add);
          order.subList(cut, order.size()).forEach(right::add);
          Fold merged = leftIntoRight ? right.merge(left) : left.merge(right);
          assertEquals(updates.size(), merged.count());
          assertSame(reference, strategy.finish(base, merged, settings));
          checked++;
        }
      }
    }
    assertTrue(checked > 0);
    return reference;
  }

  static <T> List<List<T>> permutations(List<T> items) {
    if (items.size() <= 1) {
      return List.of(List.copyOf(items));
    }
    List<List<T>> all = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      List<T> rest = new ArrayList<>(items);
      T first = rest.remove(i);
      for (List<T> tail : permutations(rest)) {
        List<T> order = new ArrayList<>();
        order.add(first);
        order.addAll(tail);
        all.add(order);
      }
    }
    return all;
  }

  static float[] parameters(Model model) {
    return Models.parameters(model);
  }

  static float[] controlVariate(Model model) {
    return FloatArrays.toArray(model.getControlVariate());
  }

  static void assertState(Model model, String name, float... expected) {
    assertArrayEquals(expected, ServerState.get(model, name), 0f, name);
  }
}
