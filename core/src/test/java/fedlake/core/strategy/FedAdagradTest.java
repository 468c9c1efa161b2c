package fedlake.core.strategy;

import static fedlake.core.strategy.StrategyTests.assertBits;
import static fedlake.core.strategy.StrategyTests.assertOrderAndPartitionFree;
import static fedlake.core.strategy.StrategyTests.assertState;
import static fedlake.core.strategy.StrategyTests.base;
import static fedlake.core.strategy.StrategyTests.next;
import static fedlake.core.strategy.StrategyTests.settings;
import static fedlake.core.strategy.StrategyTests.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.schema.Model;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Adagrad: m = b1 m + (1-b1) d; v = v + d^2; x += lr m / (sqrt(v) + tau). beta1 1/2, tau 1/64,
 * server-lr 1/2.
 */
class FedAdagradTest {
  private final FedAdagrad strategy = new FedAdagrad();
  private final StrategySettings settings =
      settings(strategy, "server-lr", 0.5, "beta1", 0.5, "tau", 0.015625);
  private final Model round0 = base(1, -1, 0.5, 0);

  // weighted mean (a + 3 b + 4 c) / 8 = [67/64, -67/64, 39/64, -15/64]: d1 = [3/64, -3/64, 7/64,
  // -15/64]
  private final List<UpdateParameters> round1 =
      List.of(
          update("a", 1, 1.796875, -1.421875, 2.109375, -3.234375),
          update("b", 3, 0.796875, -0.921875, 0.109375, 0.765625),
          update("c", 4, 1.046875, -1.046875, 0.609375, -0.234375));

  @Test
  void firstRoundFromZeroMoments() {
    Aggregate result = assertOrderAndPartitionFree(strategy, round0, settings, round1);
    // m = d1 / 2 = [3/128, -3/128, 7/128, -15/128]; v = d1^2 = [9, 9, 49, 225] / 4096, sqrt(v) =
    // |d1|
    // x += 1/2 m / (|d1| + 1/64) = 1/2 [1.5/4, -1.5/4, 3.5/8, -7.5/16] = [3/16, -3/16, 7/32,
    // -15/64]
    assertBits(new float[] {1.1875f, -1.1875f, 0.71875f, -0.234375f}, result.parameters());
    assertBits(
        new float[] {0.0234375f, -0.0234375f, 0.0546875f, -0.1171875f},
        result.serverState().get(FedAdagrad.FIRST_MOMENT));
    assertBits(
        new float[] {0.002197265625f, 0.002197265625f, 0.011962890625f, 0.054931640625f},
        result.serverState().get(FedAdagrad.SECOND_MOMENT));
  }

  @Test
  void secondRoundAccumulatesTheSquares() {
    Model round1Model =
        next(round0, strategy, StrategyTests.aggregate(strategy, round0, settings, round1));
    assertState(
        round1Model, FedAdagrad.FIRST_MOMENT, 0.0234375f, -0.0234375f, 0.0546875f, -0.1171875f);
    // mean [5/4, -5/4, 23/32, -7/64]: d2 = [4/64, -4/64, 0, 8/64]
    List<UpdateParameters> round2 =
        List.of(
            update("a", 1, 2.0, -1.625, 2.21875, -3.109375),
            update("b", 3, 1.0, -1.125, 0.21875, 0.890625),
            update("c", 4, 1.25, -1.25, 0.71875, -0.109375));
    Aggregate result = assertOrderAndPartitionFree(strategy, round1Model, settings, round2);
    // m = m/2 + d2/2 = [11/256, -11/256, 7/256, 1/256]
    // v = v + d2^2 = [25, 25, 49, 289] / 4096: sqrt = [5, 5, 7, 17] / 64 (index 2 keeps its v: no
    // decay)
    // x += 1/2 m / (sqrt(v) + 1/64) = 1/2 [(11/256)/(6/64), -same, (7/256)/(8/64), (1/256)/(18/64)]
    // = [11/48, -11/48, 7/64, 1/144]
    //   = [19/16 + 11/48 = 17/12, -17/12, 23/32 + 7/64 = 53/64, -15/64 + 1/144 = -131/576]
    assertBits(new float[] {1.4166666f, -1.4166666f, 0.828125f, -0.22743055f}, result.parameters());
    assertBits(
        new float[] {0.04296875f, -0.04296875f, 0.02734375f, 0.00390625f},
        result.serverState().get(FedAdagrad.FIRST_MOMENT));
    assertBits(
        new float[] {0.006103515625f, 0.006103515625f, 0.011962890625f, 0.070556640625f},
        result.serverState().get(FedAdagrad.SECOND_MOMENT));
  }

  @Test
  void hasNoBeta2AsInThePaper() {
    assertEquals(
        List.of("server-lr", "beta1", "tau"),
        strategy.parameters().stream().map(StrategyParameter::name).toList());
    assertThrows(IllegalArgumentException.class, () -> settings(strategy, "beta2", 0.99));
  }
}
