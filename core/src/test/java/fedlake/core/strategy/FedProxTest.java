package fedlake.core.strategy;

import static fedlake.core.strategy.StrategyTests.assertBits;
import static fedlake.core.strategy.StrategyTests.assertOrderAndPartitionFree;
import static fedlake.core.strategy.StrategyTests.base;
import static fedlake.core.strategy.StrategyTests.settings;
import static fedlake.core.strategy.StrategyTests.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.Model;
import java.util.List;
import org.junit.jupiter.api.Test;

class FedProxTest {
  private final FedProx strategy = new FedProx();
  private final Model round0 = base(1, -1, 0.5, 0);

  @Test
  void serverSideIsTheWeightedMean() {
    List<UpdateParameters> updates =
        List.of(
            update("a", 1, 2.0, -0.625, 1.75, -3.75),
            update("b", 3, 1.0, -0.125, -0.25, 0.25),
            update("c", 4, 1.25, -0.25, 0.25, -0.75));
    Aggregate result = assertOrderAndPartitionFree(strategy, round0, settings(strategy), updates);
    // (a + 3 b + 4 c) / 8, as FedAvg
    assertBits(new float[] {1.25f, -0.25f, 0.25f, -0.75f}, result.parameters());
    assertNull(result.controlVariate());
    assertTrue(result.serverState().isEmpty());
  }

  @Test
  void needsProxClientsAndHasNoServerParameters() {
    assertEquals(ClientAlgorithmName.PROX, strategy.requiredClient());
    assertTrue(strategy.parameters().isEmpty());
  }
}
