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

/** Server momentum: v = beta v + delta; x += lr v. server-lr 1/2, server-momentum 1/2. */
class FedAvgMTest {
  private final FedAvgM strategy = new FedAvgM();
  private final StrategySettings settings =
      settings(strategy, "server-lr", 0.5, "server-momentum", 0.5);
  private final Model round0 = base(1, -1, 0.5, 0);

  // weighted mean (a + 3 b + 4 c) / 8 = [5/4, -1/4, 1/4, -3/4]: d1 = [1/4, 3/4, -1/4, -3/4]
  private final List<UpdateParameters> round1 =
      List.of(
          update("a", 1, 2.0, -0.625, 1.75, -3.75),
          update("b", 3, 1.0, -0.125, -0.25, 0.25),
          update("c", 4, 1.25, -0.25, 0.25, -0.75));

  @Test
  void firstRoundStartsFromZeroMomentum() {
    Aggregate result = assertOrderAndPartitionFree(strategy, round0, settings, round1);
    // v = 1/2 * 0 + d1 = d1; x = x0 + 1/2 d1 = [1 + 1/8, -1 + 3/8, 1/2 - 1/8, 0 - 3/8]
    assertBits(new float[] {1.125f, -0.625f, 0.375f, -0.375f}, result.parameters());
    assertBits(
        new float[] {0.25f, 0.75f, -0.25f, -0.75f}, result.serverState().get(FedAvgM.MOMENTUM));
    assertNull(result.controlVariate());
  }

  @Test
  void secondRoundAddsTheDecayedMomentum() {
    Model round1Model =
        next(round0, strategy, StrategyTests.aggregate(strategy, round0, settings, round1));
    assertState(round1Model, FedAvgM.MOMENTUM, 0.25f, 0.75f, -0.25f, -0.75f);
    // mean [13/8, -5/8, 5/8, -7/8]: d2 = [1/2, 0, 1/4, -1/2]
    List<UpdateParameters> round2 =
        List.of(
            update("a", 1, 2.375, -1.0, 2.125, -3.875),
            update("b", 3, 1.375, -0.5, 0.125, 0.125),
            update("c", 4, 1.625, -0.625, 0.625, -0.875));
    Aggregate result = assertOrderAndPartitionFree(strategy, round1Model, settings, round2);
    // v = 1/2 [1/4, 3/4, -1/4, -3/4] + d2 = [5/8, 3/8, 1/8, -7/8]
    // x = x1 + 1/2 v = [9/8 + 5/16, -5/8 + 3/16, 3/8 + 1/16, -3/8 - 7/16]
    assertBits(new float[] {1.4375f, -0.4375f, 0.4375f, -0.8125f}, result.parameters());
    assertBits(
        new float[] {0.625f, 0.375f, 0.125f, -0.875f}, result.serverState().get(FedAvgM.MOMENTUM));
  }

  @Test
  void serverLearningRateOneWithoutMomentumIsFedAvg() {
    StrategySettings plain = settings(strategy, "server-lr", 1, "server-momentum", 0);
    assertBits(
        new float[] {1.25f, -0.25f, 0.25f, -0.75f},
        StrategyTests.aggregate(strategy, round0, plain, round1).parameters());
  }

  @Test
  void declaresItsParameters() {
    assertEquals(
        List.of("server-lr", "server-momentum"),
        strategy.parameters().stream().map(StrategyParameter::name).toList());
  }
}
