package fedlake.core.strategy;

import static fedlake.core.strategy.StrategyTests.assertBits;
import static fedlake.core.strategy.StrategyTests.assertOrderAndPartitionFree;
import static fedlake.core.strategy.StrategyTests.assertState;
import static fedlake.core.strategy.StrategyTests.base;
import static fedlake.core.strategy.StrategyTests.next;
import static fedlake.core.strategy.StrategyTests.settings;
import static fedlake.core.strategy.StrategyTests.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import fedlake.schema.Model;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Yogi: m = b1 m + (1-b1) d; v = v - (1-b2) d^2 sign(v - d^2); x += lr m / (sqrt(v) + tau). beta1
 * 1/2, beta2 3/4, tau 7/64, server-lr 1/2; deltas picked so that sqrt(v) is exact.
 */
class FedYogiTest {
  private final FedYogi strategy = new FedYogi();
  private final StrategySettings settings =
      settings(strategy, "server-lr", 0.5, "beta1", 0.5, "beta2", 0.75, "tau", 0.109375);
  private final Model round0 = base(1, -1, 0.5, 0);

  // weighted mean (a + 3 b + 4 c) / 8 = [41/32, -7/32, -9/32, -9/32]: delta d1 = [9/32, 25/32,
  // -25/32, -9/32]
  private final List<UpdateParameters> round1 =
      List.of(
          update("a", 1, 2.03125, -0.59375, 1.21875, -3.28125),
          update("b", 3, 1.03125, -0.09375, -0.78125, 0.71875),
          update("c", 4, 1.28125, -0.21875, -0.28125, -0.28125));

  @Test
  void firstRoundFromZeroMoments() {
    Aggregate result = assertOrderAndPartitionFree(strategy, round0, settings, round1);
    // m = d1 / 2 = [9/64, 25/64, -25/64, -9/64]
    // v = 0 - 1/4 d1^2 sign(0 - d1^2) = d1^2 / 4 = [81/4096, 625/4096, 625/4096, 81/4096]; sqrt(v)
    // = |m|
    // x += 1/2 m / (|m| + 7/64) = 1/2 [9/16, 25/32, -25/32, -9/16] = [9/32, 25/64, -25/64, -9/32]
    assertBits(new float[] {1.28125f, -0.609375f, 0.109375f, -0.28125f}, result.parameters());
    assertBits(
        new float[] {0.140625f, 0.390625f, -0.390625f, -0.140625f},
        result.serverState().get(FedYogi.FIRST_MOMENT));
    assertBits(
        new float[] {0.019775390625f, 0.152587890625f, 0.152587890625f, 0.019775390625f},
        result.serverState().get(FedYogi.SECOND_MOMENT));
    assertNull(result.controlVariate());
  }

  @Test
  void secondRoundGrowsAndShrinksTheSecondMomentBySign() {
    Model round1Model =
        next(round0, strategy, StrategyTests.aggregate(strategy, round0, settings, round1));
    assertState(round1Model, FedYogi.FIRST_MOMENT, 0.140625f, 0.390625f, -0.390625f, -0.140625f);
    // mean [53/32, -25/64, 7/64, -21/32]: d2 = [3/8, 7/32, 0, -3/8]
    List<UpdateParameters> round2 =
        List.of(
            update("a", 1, 2.40625, -0.765625, 1.609375, -3.65625),
            update("b", 3, 1.40625, -0.265625, -0.390625, 0.34375),
            update("c", 4, 1.65625, -0.390625, 0.109375, -0.65625));
    Aggregate result = assertOrderAndPartitionFree(strategy, round1Model, settings, round2);
    // m = m/2 + d2/2 = [33/128, 39/128, -25/128, -33/128]
    // v: index 0, 3: d^2 = 576/4096 > v = 81/4096: v + d^2/4 = 225/4096 (sqrt 15/64)
    //    index 1: d^2 = 196/4096 < v = 625/4096: v - d^2/4 = 576/4096 (sqrt 24/64)
    //    index 2: d = 0: v stays 625/4096 (sqrt 25/64); Adam would decay it
    // x += 1/2 m / (sqrt(v) + 7/64) = 1/2 [(33/128)/(22/64), (39/128)/(31/64), (-25/128)/(32/64),
    // -(33/128)/(22/64)]
    //    = [3/8, 39/124, -25/128, -3/8]; x = [53/32, -39/64 + 39/124 = -585/1984, -11/128, -21/32]
    assertBits(new float[] {1.65625f, -0.29485887f, -0.0859375f, -0.65625f}, result.parameters());
    assertBits(
        new float[] {0.2578125f, 0.3046875f, -0.1953125f, -0.2578125f},
        result.serverState().get(FedYogi.FIRST_MOMENT));
    assertBits(
        new float[] {0.054931640625f, 0.140625f, 0.152587890625f, 0.054931640625f},
        result.serverState().get(FedYogi.SECOND_MOMENT));
  }

  @Test
  void declaresThePaperParameters() {
    assertEquals(
        List.of("server-lr", "beta1", "beta2", "tau"),
        strategy.parameters().stream().map(StrategyParameter::name).toList());
    assertNull(strategy.requiredClient());
  }
}
