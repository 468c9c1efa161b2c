package fedlake.core.strategy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.schema.ClientAlgorithmName;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StrategiesTest {
  private static final List<String> NAMES =
      List.of(
          "fedadagrad",
          "fedadam",
          "fedavg",
          "fedavgm",
          "fednova",
          "fedprox",
          "fedyogi",
          "scaffold");

  @Test
  void everyStrategyIsRegisteredByName() {
    assertEquals(NAMES, Strategies.names());
    for (String name : NAMES) {
      Strategy strategy = Strategies.named(name);
      assertEquals(name, strategy.name());
      assertTrue(!strategy.summary().isBlank(), name);
    }
    assertEquals(FedAvg.class, Strategies.named(FedAvg.NAME).getClass());
    assertEquals(FedAvgM.class, Strategies.named(FedAvgM.NAME).getClass());
    assertEquals(FedAdam.class, Strategies.named(FedAdam.NAME).getClass());
    assertEquals(FedYogi.class, Strategies.named(FedYogi.NAME).getClass());
    assertEquals(FedAdagrad.class, Strategies.named(FedAdagrad.NAME).getClass());
    assertEquals(Scaffold.class, Strategies.named(Scaffold.NAME).getClass());
    assertEquals(FedProx.class, Strategies.named(FedProx.NAME).getClass());
    assertEquals(FedNova.class, Strategies.named(FedNova.NAME).getClass());
  }

  @Test
  void unknownNameListsTheKnownOnes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Strategies.named("fedsgd"));
    assertEquals(
        "Unknown strategy 'fedsgd' (known: fedadagrad, fedadam, fedavg, fedavgm, fednova, fedprox, fedyogi, scaffold)",
        e.getMessage());
  }

  @Test
  void clientRequirements() {
    assertEquals(ClientAlgorithmName.SCAFFOLD, Strategies.named("scaffold").requiredClient());
    assertEquals(ClientAlgorithmName.PROX, Strategies.named("fedprox").requiredClient());
    for (String name :
        List.of("fedavg", "fedavgm", "fedadam", "fedyogi", "fedadagrad", "fednova")) {
      assertNull(Strategies.named(name).requiredClient(), name);
    }
  }

  @Test
  void defaultsAreInRangeAndFilledIn() {
    for (Strategy strategy : Strategies.all()) {
      for (StrategyParameter p : strategy.parameters()) {
        assertNull(p.problem(p.defaultValue()), strategy.name() + " " + p.name());
      }
      assertEquals(
          strategy.parameters().size(), StrategySettings.of(strategy, Map.of()).values().size());
    }
  }

  @Test
  void settingsRejectUnknownParameters() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StrategySettings.of(Strategies.named("fedadam"), Map.of("lr", 0.1)));
    assertEquals(
        "Strategy fedadam has no parameter 'lr' (it has: beta1, beta2, server-lr, tau)",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StrategySettings.of(Strategies.named("fedavg"), Map.of("server-lr", 1.0)));
    assertEquals("Strategy fedavg has no parameter 'server-lr' (it has: none)", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StrategySettings.of(Strategies.named("fedadagrad"), Map.of("beta2", 0.9)));
    assertEquals(
        "Strategy fedadagrad has no parameter 'beta2' (it has: beta1, server-lr, tau)",
        e.getMessage());
  }

  @Test
  void settingsRejectOutOfRangeValues() {
    assertEquals(
        "Strategy fedadam: parameter beta1 must be in [0, 1), got 1.0",
        problem("fedadam", "beta1", 1.0));
    assertEquals(
        "Strategy fedyogi: parameter beta2 must be in [0, 1), got -0.1",
        problem("fedyogi", "beta2", -0.1));
    assertEquals(
        "Strategy fedadam: parameter tau must be in (0, inf], got 0.0",
        problem("fedadam", "tau", 0.0));
    assertEquals(
        "Strategy fedavgm: parameter server-lr must be in (0, inf], got -1.0",
        problem("fedavgm", "server-lr", -1.0));
    assertEquals(
        "Strategy fedavgm: parameter server-momentum must be in [0, 1), got 1.5",
        problem("fedavgm", "server-momentum", 1.5));
    assertEquals(
        "Strategy scaffold: parameter server-lr must be in (0, inf], got NaN",
        problem("scaffold", "server-lr", Double.NaN));
    assertEquals(
        "Strategy fednova: parameter server-lr must be in (0, inf], got Infinity",
        problem("fednova", "server-lr", Double.POSITIVE_INFINITY));
    assertEquals(
        0.0, StrategySettings.of(Strategies.named("fedadam"), Map.of("beta1", 0.0)).get("beta1"));
  }

  private static String problem(String strategy, String parameter, double value) {
    return assertThrows(
            IllegalArgumentException.class,
            () -> StrategySettings.of(Strategies.named(strategy), Map.of(parameter, value)))
        .getMessage();
  }
}
