package fedlake.core.spec;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.Store;
import fedlake.core.strategy.Strategies;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.FederationSpec;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spec drives the round: every strategy runs from init, and a recorded change applies from the
 * next round.
 */
class SpecRoundTest {
  @TempDir Path dir;

  private static void upload(
      Store store, Model base, String site, long examples, int steps, float[] weights, float[] bias)
      throws IOException {
    store.writeUpdate(
        Fixtures.update(base, site, examples, weights, bias)
            .setLocalSteps(steps)
            .setControlDelta(
                FloatArrays.asList(
                    base.getControlVariate().isEmpty() ? new float[0] : floats(0.5, 0, 0, 0, 0, 0)))
            .build());
  }

  @Test
  void everyStrategyRunsARoundFromInitAndRecordsItself() throws IOException {
    assertEquals(8, Strategies.names().size(), Strategies.names().toString());
    for (String name : Strategies.names()) {
      Store store = Store.open(dir.resolve(name).toUri().toString());
      Model base = new Federation(store).dimension(2).classes(2).strategy(name).execute().get(0);
      FederationSpec spec = Specs.require(store);
      assertEquals(1, spec.getSpecVersion());
      assertEquals(name, spec.getStrategy().getName());
      ClientAlgorithmName required = Strategies.named(name).requiredClient();
      assertEquals(
          required == null ? ClientAlgorithmName.SGD : required,
          spec.getClient().getAlgorithm(),
          name);
      assertEquals(
          required == ClientAlgorithmName.SCAFFOLD, !base.getControlVariate().isEmpty(), name);

      upload(store, base, "site-a", 10, 4, floats(1, 0, 0, 1), floats(0, 0));
      upload(store, base, "site-b", 30, 4, floats(0, 1, 1, 0), floats(0.5, -0.5));
      RoundResult result = new RoundJob(store).execute();
      assertEquals(RoundResult.Status.PUBLISHED, result.status(), name + ": " + result.message());
      Model next = result.published().get(0);
      RoundHistory h = result.history().get(0);
      assertEquals(name, next.getStrategy());
      assertEquals(name, h.getStrategy());
      assertEquals(1, h.getSpecVersion());
      assertEquals(1, next.getSpecVersion());
      float[] parameters = Models.parameters(next);
      for (float v : parameters) {
        assertTrue(Float.isFinite(v), name);
      }
      if (name.equals("fedavg")
          || name.equals("fedprox")
          || name.equals("scaffold")
          || name.equals("fednova")) {
        // equal local steps: all four are the weighted mean (10 a + 30 b) / 40
        assertArrayEquals(floats(0.25, 0.75, 0.75, 0.25, 0.375, -0.375), parameters, name);
      }
      if (name.equals("fedadam")) {
        assertFalse(next.getServerState().isEmpty(), "FedAdam keeps its moments with the model");
      }
    }
  }

  @Test
  void aRecordedChangeAppliesFromTheNextRoundAndHistoryNamesTheVersion() throws IOException {
    Store store = Store.open(dir.resolve("change").toUri().toString());
    Model base = new Federation(store).dimension(2).classes(2).execute().get(0);
    upload(store, base, "site-a", 10, 4, floats(1, 0, 0, 1), floats(0, 0));
    RoundResult first = new RoundJob(store).execute();
    assertEquals(1, first.history().get(0).getSpecVersion());
    assertEquals("fedavg", first.history().get(0).getStrategy());

    FederationSpec.Builder change =
        Specs.next(Specs.require(store), "spec set --strategy fedavgm --server-momentum 0.9", 5L);
    Specs.setStrategy(change, "fedavgm", Map.of("server-momentum", 0.9));
    Specs.write(store, change.build());
    assertEquals(2, Specs.require(store).getSpecVersion());
    assertEquals("init", Specs.read(store, 1).getChange(), "version 1 stays as it was");
    assertEquals(
        "spec set --strategy fedavgm --server-momentum 0.9", Specs.require(store).getChange());

    Model round1 = first.published().get(0);
    store.writeUpdate(
        Fixtures.update(round1, "site-a", 10, floats(2, 0, 0, 2), floats(0, 0)).build());
    RoundResult second = new RoundJob(store).execute();
    RoundHistory h = second.history().get(0);
    assertEquals(2, h.getSpecVersion());
    assertEquals("fedavgm", h.getStrategy());
    // delta = (2,0,0,2,0,0) - (1,0,0,1,0,0); v = 0.9 * 0 + delta; x = x + 1 * v
    assertArrayEquals(floats(2, 0, 0, 2, 0, 0), Models.parameters(second.published().get(0)));
  }

  @Test
  void changesAreCheckedAndNeverOverwriteAVersion() throws IOException {
    Store store = Store.open(dir.resolve("checks").toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    FederationSpec current = Specs.require(store);
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class,
            () -> Specs.setStrategy(Specs.next(current, "x", 1L), "fedmagic", Map.of()));
    assertTrue(
        unknown
            .getMessage()
            .startsWith(
                "Unknown strategy 'fedmagic' (known: fedadagrad, fedadam, fedavg, fedavgm, fednova,"),
        unknown.getMessage());
    IllegalArgumentException parameter =
        assertThrows(
            IllegalArgumentException.class,
            () -> Specs.setStrategy(Specs.next(current, "x", 1L), "fedadam", Map.of("beta1", 1.5)));
    assertEquals(
        "Strategy fedadam: parameter beta1 must be in [0, 1), got 1.5", parameter.getMessage());
    FederationSpec.Builder scaffoldSitesFedAvg = Specs.next(current, "x", 1L);
    scaffoldSitesFedAvg.getClient().setAlgorithm(ClientAlgorithmName.SCAFFOLD);
    IllegalArgumentException mismatch =
        assertThrows(
            IllegalArgumentException.class, () -> Specs.check(scaffoldSitesFedAvg.build()));
    assertEquals(
        "scaffold sites need the scaffold strategy (it keeps the server control variate), the spec's is fedavg",
        mismatch.getMessage());
    IllegalStateException skipped =
        assertThrows(
            IllegalStateException.class,
            () -> Specs.write(store, FederationSpec.newBuilder(current).setSpecVersion(3).build()));
    assertEquals(
        "Cannot write spec version 3 to " + store.root() + ": the next version is 2",
        skipped.getMessage());
    IllegalStateException again =
        assertThrows(IllegalStateException.class, () -> Specs.write(store, current));
    assertEquals(
        "Cannot write spec version 1 to " + store.root() + ": the next version is 2",
        again.getMessage());
    assertNull(current.getPrivacy());
  }

  @Test
  void aSpecWrittenBeforeTheRoundSafetyBoundsReadsWithTheirDefaults() {
    Store store = Store.open(dir.resolve("old").toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    String json = Specs.toJson(Specs.require(store));
    String old =
        json.replaceAll(",\\s*\"maxClockSkewSeconds\"\\s*:\\s*\\d+", "")
            .replaceAll(",\\s*\"controlDeltaBound\"\\s*:\\s*[0-9.]+", "")
            .replaceAll(",\\s*\"claimTimeoutMinutes\"\\s*:\\s*\\d+", "");
    assertFalse(old.contains("maxClockSkewSeconds"), old);
    assertFalse(old.contains("controlDeltaBound"), old);
    assertFalse(old.contains("claimTimeoutMinutes"), old);

    FederationSpec spec = Specs.parse(old, "spec-000001.json");

    assertEquals(300, spec.getRobustness().getMaxClockSkewSeconds());
    assertEquals(4.0, spec.getRobustness().getControlDeltaBound());
    assertEquals(120, spec.getRobustness().getClaimTimeoutMinutes());
  }
}
