package fedlake.core.strategy;

import static fedlake.core.strategy.StrategyTests.assertBits;
import static fedlake.core.strategy.StrategyTests.assertOrderAndPartitionFree;
import static fedlake.core.strategy.StrategyTests.assertState;
import static fedlake.core.strategy.StrategyTests.base;
import static fedlake.core.strategy.StrategyTests.next;
import static fedlake.core.strategy.StrategyTests.settings;
import static fedlake.core.strategy.StrategyTests.update;
import static fedlake.core.strategy.StrategyTests.withSteps;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.schema.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** x_next = x - lr * tau_eff * sum p_i (x - y_i) / tau_i, tau_eff = sum p_i tau_i. */
class FedNovaTest {
  private final FedNova strategy = new FedNova();
  private final FedAvg fedAvg = new FedAvg();
  private final Model round0 = base(1, -1, 0.5, 0);

  // p = [1/4, 1/2, 1/4], tau = [2, 4, 1]: tau_eff = (2 + 8 + 1) / 4 = 11/4
  // d_a = (x - y_a) / 2 = [1/2, 0, -1/4, 1], d_b = (x - y_b) / 4 = [1/4, -1/2, 0, 1/2], d_c = x -
  // y_c = [-1, 1/2, 1, 0]
  // sum p_i d_i = [1/8 + 1/8 - 1/4, 0 - 1/4 + 1/8, -1/16 + 0 + 1/4, 1/4 + 1/4 + 0] = [0, -1/8,
  // 3/16, 1/2]
  private final List<UpdateParameters> updates =
      List.of(
          withSteps(update("a", 1, 0, -1, 1, -2), 2),
          withSteps(update("b", 2, 0, 1, 0.5, -2), 4),
          withSteps(update("c", 1, 2, -1.5, -0.5, 0), 1));

  @Test
  void normalisesEachSiteByItsSteps() {
    Aggregate result = assertOrderAndPartitionFree(strategy, round0, settings(strategy), updates);
    // x - 11/4 [0, -1/8, 3/16, 1/2] = [1, -1 + 11/32, 1/2 - 33/64, -11/8]
    assertBits(new float[] {1f, -0.65625f, -0.015625f, -1.375f}, result.parameters());
    assertNull(result.controlVariate());
    assertTrue(result.serverState().isEmpty());
    // FedAvg of the same updates differs: (y_a + 2 y_b + y_c) / 4 = [1/2, -1/8, 3/8, -3/2]
    assertBits(
        new float[] {0.5f, -0.125f, 0.375f, -1.5f},
        StrategyTests.aggregate(fedAvg, round0, settings(fedAvg), updates).parameters());
  }

  @Test
  void serverLearningRateScalesTheStep() {
    Aggregate result =
        StrategyTests.aggregate(strategy, round0, settings(strategy, "server-lr", 0.5), updates);
    // x - 1/2 * 11/4 [0, -1/8, 3/16, 1/2] = [1, -1 + 11/64, 1/2 - 33/128, -11/16]
    assertBits(new float[] {1f, -0.828125f, 0.2421875f, -0.6875f}, result.parameters());
  }

  @Test
  void tauEffMaxTakesTheMostStepsAnySiteRan() {
    Aggregate result =
        assertOrderAndPartitionFree(
            strategy, round0, settings(strategy, "tau-eff", FedNova.TAU_EFF_MAX), updates);
    // tau_eff = max(2, 4, 1) = 4: x - 4 [0, -1/8, 3/16, 1/2] = [1, -1 + 1/2, 1/2 - 3/4, -2]
    assertBits(new float[] {1f, -0.5f, -0.25f, -2f}, result.parameters());
  }

  @Test
  void tauEffCanBeANumber() {
    Aggregate result =
        assertOrderAndPartitionFree(strategy, round0, settings(strategy, "tau-eff", 8.0), updates);
    // x - 8 [0, -1/8, 3/16, 1/2] = [1, -1 + 1, 1/2 - 3/2, -4]
    assertBits(new float[] {1f, 0f, -1f, -4f}, result.parameters());
    // server-lr multiplies it: x - 0.5 * 8 [...] = [1, -1/2, -1/4, -2]
    assertBits(
        new float[] {1f, -0.5f, -0.25f, -2f},
        StrategyTests.aggregate(
                strategy, round0, settings(strategy, "tau-eff", 8.0, "server-lr", 0.5), updates)
            .parameters());
  }

  @Test
  void tauEffWeightedIsTheDefault() {
    assertBits(
        StrategyTests.aggregate(strategy, round0, settings(strategy), updates).parameters(),
        StrategyTests.aggregate(
                strategy, round0, settings(strategy, "tau-eff", FedNova.TAU_EFF_WEIGHTED), updates)
            .parameters());
  }

  @Test
  void tauEffRejectsOtherNegativeNumbers() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> settings(strategy, "tau-eff", -2.0));
    assertEquals(
        "Strategy fednova: parameter tau-eff must be in (0, inf] or one of max, weighted"
            + " (max = -1, weighted = 0), got -2.0",
        e.getMessage());
    StrategyParameter p =
        strategy.parameters().stream().filter(q -> q.name().equals("tau-eff")).findFirst().get();
    assertEquals(-1.0, p.word("max"));
    assertEquals(0.0, p.word("weighted"));
    assertNull(p.word("min"));
  }

  @Test
  void equalStepsAreFedAvg() {
    List<UpdateParameters> equal = updates.stream().map(u -> withSteps(u, 4)).toList();
    // tau = 4 for all: 4 * sum p_i (x - y_i) / 4 = x - mean(y)
    assertBits(
        new float[] {0.5f, -0.125f, 0.375f, -1.5f},
        assertOrderAndPartitionFree(strategy, round0, settings(strategy), equal).parameters());
    Random random = new Random(11L);
    for (int trial = 0; trial < 20; trial++) {
      int steps = 1 + random.nextInt(60);
      List<UpdateParameters> many = new ArrayList<>();
      for (int k = 0; k < 1 + random.nextInt(8); k++) {
        double[] y = new double[4];
        for (int i = 0; i < y.length; i++) {
          y[i] = random.nextGaussian();
        }
        many.add(withSteps(update("s" + k, 1 + random.nextInt(500), y), steps));
      }
      float[] nova =
          StrategyTests.aggregate(strategy, round0, settings(strategy), many).parameters();
      float[] avg = StrategyTests.aggregate(fedAvg, round0, settings(fedAvg), many).parameters();
      for (int i = 0; i < avg.length; i++) {
        assertEquals(
            avg[i], nova[i], 1e-6, "trial " + trial + " index " + i); // d_i is rounded to float
      }
    }
  }

  @Test
  void serverMomentumCarriesTheNormalisedStep() {
    StrategySettings momentum = settings(strategy, "server-momentum", 0.5);
    Aggregate first = assertOrderAndPartitionFree(strategy, round0, momentum, updates);
    // g1 = 11/4 [0, -1/8, 3/16, 1/2] = [0, -11/32, 33/64, 11/8]; v1 = 1/2 * 0 - g1
    // x1 = x0 + v1 = [1, -21/32, -1/64, -11/8]: the first round is FedNova without momentum
    assertBits(new float[] {1f, -0.65625f, -0.015625f, -1.375f}, first.parameters());
    assertBits(
        new float[] {0f, 0.34375f, -0.515625f, -1.375f}, first.serverState().get(FedNova.MOMENTUM));
    Model round1 = next(round0, strategy, first);
    assertState(round1, FedNova.MOMENTUM, 0f, 0.34375f, -0.515625f, -1.375f);
    // round 2: y_i = x1 - tau_i e_i with e_a = [1/2, 0, 0, 0], e_b = [0, 1/4, 0, 0],
    // e_c = [0, 0, -1, 1/2]: sum p_i e_i = [1/8, 1/8, -1/4, 1/8], g2 = [11/32, 11/32, -11/16,
    // 11/32]
    List<UpdateParameters> second =
        List.of(
            withSteps(update("a", 1, 0, -0.65625, -0.015625, -1.375), 2),
            withSteps(update("b", 2, 1, -1.65625, -0.015625, -1.375), 4),
            withSteps(update("c", 1, 1, -0.65625, 0.984375, -1.875), 1));
    Aggregate result = assertOrderAndPartitionFree(strategy, round1, momentum, second);
    // v2 = 1/2 v1 - g2 = [-11/32, 11/64 - 11/32, -33/128 + 11/16, -11/16 - 11/32]
    //    = [-11/32, -11/64, 55/128, -33/32]
    // x2 = x1 + v2 = [21/32, -53/64, 53/128, -77/32]
    assertBits(
        new float[] {-0.34375f, -0.171875f, 0.4296875f, -1.03125f},
        result.serverState().get(FedNova.MOMENTUM));
    assertBits(new float[] {0.65625f, -0.828125f, 0.4140625f, -2.40625f}, result.parameters());
    // without momentum the same round ignores the state: x1 - g2
    assertBits(
        new float[] {0.65625f, -1f, 0.671875f, -1.71875f},
        StrategyTests.aggregate(strategy, round1, settings(strategy), second).parameters());
  }

  @Test
  void withoutMomentumThereIsNoServerState() {
    assertTrue(
        StrategyTests.aggregate(strategy, round0, settings(strategy), updates)
            .serverState()
            .isEmpty());
    assertEquals(0.0, settings(strategy).get("server-momentum"));
  }

  @Test
  void equalStepsWithMomentumAreFedAvgM() {
    FedAvgM fedAvgM = new FedAvgM();
    StrategySettings nova = settings(strategy, "server-lr", 0.5, "server-momentum", 0.5);
    StrategySettings avgm = settings(fedAvgM, "server-lr", 0.5, "server-momentum", 0.5);
    // FedAvgMTest's two rounds, every site 2 local steps: tau_eff = 2, g = -(mean(y) - x)
    List<UpdateParameters> round1 =
        List.of(
            withSteps(update("a", 1, 2.0, -0.625, 1.75, -3.75), 2),
            withSteps(update("b", 3, 1.0, -0.125, -0.25, 0.25), 2),
            withSteps(update("c", 4, 1.25, -0.25, 0.25, -0.75), 2));
    List<UpdateParameters> round2 =
        List.of(
            withSteps(update("a", 1, 2.375, -1.0, 2.125, -3.875), 2),
            withSteps(update("b", 3, 1.375, -0.5, 0.125, 0.125), 2),
            withSteps(update("c", 4, 1.625, -0.625, 0.625, -0.875), 2));
    Aggregate first = assertOrderAndPartitionFree(strategy, round0, nova, round1);
    // FedAvgMTest: x1 = [9/8, -5/8, 3/8, -3/8], v1 = [1/4, 3/4, -1/4, -3/4]
    assertBits(new float[] {1.125f, -0.625f, 0.375f, -0.375f}, first.parameters());
    assertBits(
        new float[] {0.25f, 0.75f, -0.25f, -0.75f}, first.serverState().get(FedNova.MOMENTUM));
    StrategyTests.assertSame(StrategyTests.aggregate(fedAvgM, round0, avgm, round1), first);
    Model novaRound1 = next(round0, strategy, first);
    Model avgmRound1 =
        next(round0, fedAvgM, StrategyTests.aggregate(fedAvgM, round0, avgm, round1));
    Aggregate second = assertOrderAndPartitionFree(strategy, novaRound1, nova, round2);
    // FedAvgMTest: x2 = [23/16, -7/16, 7/16, -13/16], v2 = [5/8, 3/8, 1/8, -7/8]
    assertBits(new float[] {1.4375f, -0.4375f, 0.4375f, -0.8125f}, second.parameters());
    assertBits(
        new float[] {0.625f, 0.375f, 0.125f, -0.875f}, second.serverState().get(FedNova.MOMENTUM));
    StrategyTests.assertSame(StrategyTests.aggregate(fedAvgM, avgmRound1, avgm, round2), second);
  }

  @Test
  void adamStepsAlongTheNormalisedStep() {
    StrategySettings adam =
        settings(
            strategy,
            "server-optimizer",
            FedNova.ADAM,
            "beta1",
            0.5,
            "beta2",
            0.75,
            "tau",
            0.5,
            "server-momentum",
            0.9); // not used by adam
    Aggregate result = assertOrderAndPartitionFree(strategy, round0, adam, updates);
    // -g = -11/4 [0, -1/8, 3/16, 1/2] = [0, 11/32, -33/64, -11/8]; from zero moments
    // m = -g / 2, v = g^2 / 4, sqrt(v) = |g| / 2: x += (-g / 2) / (|g| / 2 + 1/2) = -g / (|g| + 1)
    // = [0, 11/43, -33/97, -11/19]
    assertBits(
        new float[] {1f, (float) (-1 + 11.0 / 43), (float) (0.5 - 33.0 / 97), (float) (-11.0 / 19)},
        result.parameters());
    assertBits(
        new float[] {0f, 0.171875f, -0.2578125f, -0.6875f},
        result.serverState().get(FedNova.FIRST_MOMENT));
    // g^2 / 4 = [0, 121/4096, 1089/16384, 121/256]
    assertBits(
        new float[] {0f, 0.029541015625f, 0.06646728515625f, 0.47265625f},
        result.serverState().get(FedNova.SECOND_MOMENT));
    assertEquals(
        java.util.Set.of(FedNova.FIRST_MOMENT, FedNova.SECOND_MOMENT),
        result.serverState().keySet());
  }

  @Test
  void equalStepsWithAdamAreFedAdam() {
    FedAdam fedAdam = new FedAdam();
    Object[] shared = {"server-lr", 0.5, "beta1", 0.5, "beta2", 0.75, "tau", 0.015625};
    StrategySettings avg = settings(fedAdam, shared);
    Object[] novaSettings = java.util.Arrays.copyOf(shared, shared.length + 2);
    novaSettings[shared.length] = "server-optimizer";
    novaSettings[shared.length + 1] = FedNova.ADAM;
    StrategySettings nova = settings(strategy, novaSettings);
    // FedAdamTest's two rounds, every site 2 local steps: tau_eff = 2, -g = mean(y) - x
    List<UpdateParameters> round1 =
        List.of(
            withSteps(update("a", 1, 1.84375, -1.46875, 2.21875, -3.46875), 2),
            withSteps(update("b", 3, 0.84375, -0.96875, 0.21875, 0.53125), 2),
            withSteps(update("c", 4, 1.09375, -1.09375, 0.71875, -0.46875), 2));
    List<UpdateParameters> round2 =
        List.of(
            withSteps(update("a", 1, 2.328125, -1.953125, 2.546875, -3.46875), 2),
            withSteps(update("b", 3, 1.328125, -1.453125, 0.546875, 0.53125), 2),
            withSteps(update("c", 4, 1.578125, -1.578125, 1.046875, -0.46875), 2));
    Aggregate first = assertOrderAndPartitionFree(strategy, round0, nova, round1);
    // FedAdamTest: x1 = [11/8, -11/8, 15/16, -15/32]
    assertBits(new float[] {1.375f, -1.375f, 0.9375f, -0.46875f}, first.parameters());
    StrategyTests.assertSame(StrategyTests.aggregate(fedAdam, round0, avg, round1), first);
    Model novaRound1 = next(round0, strategy, first);
    Model avgRound1 = next(round0, fedAdam, StrategyTests.aggregate(fedAdam, round0, avg, round1));
    Aggregate second = assertOrderAndPartitionFree(strategy, novaRound1, nova, round2);
    // FedAdamTest: x2 = [15/8, -15/8, 11/8, -0.7367913]
    assertBits(new float[] {1.875f, -1.875f, 1.375f, -0.7367913f}, second.parameters());
    StrategyTests.assertSame(StrategyTests.aggregate(fedAdam, avgRound1, avg, round2), second);
  }

  @Test
  void serverOptimizerIsSgdOrAdam() {
    StrategyParameter p =
        strategy.parameters().stream()
            .filter(q -> q.name().equals("server-optimizer"))
            .findFirst()
            .get();
    assertEquals(0.0, p.defaultValue());
    assertEquals(0.0, p.word("sgd"));
    assertEquals(1.0, p.word("adam"));
    assertNull(p.word("yogi"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> settings(strategy, "server-optimizer", 2.0));
    assertEquals(
        "Strategy fednova: parameter server-optimizer must be one of adam, sgd (adam = 1, sgd ="
            + " 0), got 2.0",
        e.getMessage());
    assertEquals(
        List.of(
            "server-lr", "tau-eff", "server-momentum", "server-optimizer", "beta1", "beta2", "tau"),
        strategy.parameters().stream().map(StrategyParameter::name).toList());
  }

  @Test
  void serverMomentumMustBeBelowOne() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> settings(strategy, "server-momentum", 1.0));
    assertEquals(
        "Strategy fednova: parameter server-momentum must be in [0, 1), got 1.0", e.getMessage());
  }

  @Test
  void rejectsAnUpdateWithoutLocalSteps() {
    Fold fold = strategy.newFold(round0, settings(strategy));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> fold.add(withSteps(update("site-7", 3, 1, 1, 1, 1), 0)));
    assertEquals(
        "FedNova cannot use the update of site site-7: it reports 0 local steps (must be positive)",
        e.getMessage());
    assertEquals(0, fold.count());
  }
}
