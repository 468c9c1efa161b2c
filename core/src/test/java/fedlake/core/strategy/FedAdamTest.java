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
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.schema.Model;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Adam without bias correction: m = b1 m + (1-b1) d; v = b2 v + (1-b2) d^2; x += lr m / (sqrt(v) +
 * tau). beta1 1/2, beta2 3/4, tau 1/64, server-lr 1/2.
 */
class FedAdamTest {
  private final FedAdam strategy = new FedAdam();
  private final StrategySettings settings =
      settings(strategy, "server-lr", 0.5, "beta1", 0.5, "beta2", 0.75, "tau", 0.015625);
  private final Model round0 = base(1, -1, 0.5, 0);

  // weighted mean (a + 3 b + 4 c) / 8 = [35/32, -35/32, 23/32, -15/32]: d1 = [3/32, -3/32, 7/32,
  // -15/32]
  private final List<UpdateParameters> round1 =
      List.of(
          update("a", 1, 1.84375, -1.46875, 2.21875, -3.46875),
          update("b", 3, 0.84375, -0.96875, 0.21875, 0.53125),
          update("c", 4, 1.09375, -1.09375, 0.71875, -0.46875));

  @Test
  void firstRoundFromZeroMoments() {
    Aggregate result = assertOrderAndPartitionFree(strategy, round0, settings, round1);
    // m = d1 / 2 = [3/64, -3/64, 7/64, -15/64]; v = d1^2 / 4 = [9, 9, 49, 225] / 4096, sqrt(v) =
    // |m|
    // x += 1/2 m / (|m| + 1/64) = 1/2 [3/4, -3/4, 7/8, -15/16] = [3/8, -3/8, 7/16, -15/32]
    assertBits(new float[] {1.375f, -1.375f, 0.9375f, -0.46875f}, result.parameters());
    assertBits(
        new float[] {0.046875f, -0.046875f, 0.109375f, -0.234375f},
        result.serverState().get(FedAdam.FIRST_MOMENT));
    assertBits(
        new float[] {0.002197265625f, 0.002197265625f, 0.011962890625f, 0.054931640625f},
        result.serverState().get(FedAdam.SECOND_MOMENT));
    assertNull(result.controlVariate());
  }

  @Test
  void secondRoundUsesTheStoredMoments() {
    Model round1Model =
        next(round0, strategy, StrategyTests.aggregate(strategy, round0, settings, round1));
    assertState(
        round1Model,
        FedAdam.SECOND_MOMENT,
        0.002197265625f,
        0.002197265625f,
        0.011962890625f,
        0.054931640625f);
    // mean [101/64, -101/64, 67/64, -15/32]: d2 = [13/64, -13/64, 7/64, 0]
    List<UpdateParameters> round2 =
        List.of(
            update("a", 1, 2.328125, -1.953125, 2.546875, -3.46875),
            update("b", 3, 1.328125, -1.453125, 0.546875, 0.53125),
            update("c", 4, 1.578125, -1.578125, 1.046875, -0.46875));
    Aggregate result = assertOrderAndPartitionFree(strategy, round1Model, settings, round2);
    // m = m/2 + d2/2 = [8/64, -8/64, 7/64, -7.5/64]
    // v = 3/4 v + d2^2/4 = [(27 + 169)/16384, same, 49/4096, 675/16384]; sqrt = [7/64, 7/64, 7/64,
    // 15 sqrt(3)/128]
    // x += 1/2 m / (sqrt(v) + 1/64) = [1/2, -1/2, 7/16, -1/2 * 15 / (15 sqrt(3) + 2) = -0.2680413]
    //   = [15/8, -15/8, 11/8, -0.46875 - 0.2680413 = -0.7367913]
    assertBits(new float[] {1.875f, -1.875f, 1.375f, -0.7367913f}, result.parameters());
    assertBits(
        new float[] {0.125f, -0.125f, 0.109375f, -0.1171875f},
        result.serverState().get(FedAdam.FIRST_MOMENT));
    assertBits(
        new float[] {0.011962890625f, 0.011962890625f, 0.011962890625f, 0.04119873046875f},
        result.serverState().get(FedAdam.SECOND_MOMENT));
  }

  @Test
  void rejectsAStoredMomentOfTheWrongLength() {
    Model broken =
        Model.newBuilder(round0)
            .setServerState(ServerState.rows(Map.of(FedAdam.FIRST_MOMENT, new float[3])))
            .build();
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> StrategyTests.aggregate(strategy, broken, settings, round1));
    assertEquals(
        "Model "
            + round0.getVersion()
            + " holds server state 'first-moment' of 3 values, expected 4",
        e.getMessage());
  }

  @Test
  void declaresThePaperParameters() {
    assertEquals(
        List.of("server-lr", "beta1", "beta2", "tau"),
        strategy.parameters().stream().map(StrategyParameter::name).toList());
  }
}
