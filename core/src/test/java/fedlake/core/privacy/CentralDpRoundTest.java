package fedlake.core.privacy;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.PrivacySpec;
import fedlake.schema.RoundHistory;
import fedlake.schema.UpdateAudit;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DP-FedAvg in the round job: clipping, the fixed denominator, seeded noise, sampling, budget. */
class CentralDpRoundTest {
  private static final String SECRET = "a-server-secret-of-some-length";

  @TempDir Path dir;

  private Store federation(String name, String strategy, double noise, double sample, int sites) {
    return federation(name, strategy, noise, sample, sites, List.of());
  }

  private Store federation(
      String name, String strategy, double noise, double sample, int sites, List<Float> centre) {
    Store store = Store.open(dir.resolve(name).toUri().toString());
    new Federation(store)
        .dimension(2)
        .classes(2)
        .strategy(strategy)
        .adjust(
            spec ->
                spec.setPrivacy(
                    PrivacySpec.newBuilder()
                        .setMechanism(CentralDp.MECHANISM)
                        .setClipNorm(1.0)
                        .setNoiseMultiplier(noise)
                        .setSampleFraction(sample)
                        .setPopulation(sites)
                        .setDelta(1e-5)
                        .setEpsilonBudget(8)
                        .setCentre(centre)
                        .build()))
        .execute();
    return store;
  }

  private static CentralDp mechanism(double noise, double sample, int population, String secret) {
    return new CentralDp(
        noise == 0 ? 1 : 1.0, noise, sample, population, 1e-5, 8, secret.getBytes(), List.of());
  }

  @Test
  void clippedChangesAreSummedNoisedAndDividedBySampleFractionTimesPopulation() throws Exception {
    Store store = federation("known", "fedavg", 1.0, 1.0, 4);
    Model base = store.readModel(0, 0);
    // site-a: change (3, 4, 0, 0 | 0, 0), norm 5, clipped to (0.6, 0.8, 0, 0 | 0, 0);
    // site-b: change (0, 0, 0.5, 0 | 0, 0), norm 0.5, kept
    store.writeUpdate(
        Fixtures.update(base, "site-a", 10, floats(3, 4, 0, 0), floats(0, 0)).build());
    store.writeUpdate(
        Fixtures.update(base, "site-b", 99, floats(0, 0, 0.5, 0), floats(0, 0)).build());
    RoundResult result = new RoundJob(store).dpSecret(SECRET).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());

    double[] noise = mechanism(1.0, 1.0, 4, SECRET).noise(0, base.getVersion(), 6);
    double[] clipped = {0.6, 0.8, 0.5, 0, 0, 0};
    float[] expected = new float[6];
    for (int i = 0; i < 6; i++) {
      expected[i] = (float) ((clipped[i] + noise[i]) / 4); // q x N = 4; numExamples do not weigh
    }
    assertArrayEquals(expected, Models.parameters(store.readModel(1, 0)), 1e-6f);

    Map<String, UpdateAudit> audit =
        result.audit().stream().collect(Collectors.toMap(UpdateAudit::getSite, a -> a));
    assertEquals("clipped", audit.get("site-a").getStatus());
    assertEquals(
        "change norm 5.000 clipped to 1.000 (privacy.clipNorm); weight 1 (DP-FedAvg)",
        audit.get("site-a").getReason());
    assertEquals("accepted", audit.get("site-b").getStatus());
    RoundHistory row = result.history().get(0);
    assertEquals(1.0, row.getNoiseMultiplier());
    assertEquals(PrivacyLedger.epsilon(1, 1, 1, 1e-5), row.getEpsilon(), 1e-12);
  }

  @Test
  void aCentredMechanismClipsAndNoisesInCentredCoordinates() throws Exception {
    // centre c = (0.5, 0), logit scale s = 10: a change's centred bias is db_k + 10 dW_k . c
    Store store = federation("centred", "fedavg", 1.0, 1.0, 4, List.of(0.5f, 0f));
    Model base = store.readModel(0, 0);
    // site-a: dW (0.1, 0 | 0, 0), db (0, 0): centred db (0.5, 0), norm sqrt(0.01 + 0.25), kept
    // site-b: dW (0, 0 | 0.3, 0.4), db (0, -1.5): centred db (0, 0), norm 0.5, kept (its stored
    //   norm, 1.58, would have been clipped)
    // site-c: dW (0.6, 0.8 | 0, 0), db (0, 0): centred db (3, 0), norm sqrt(10), scaled by
    //   1/sqrt(10)
    store.writeUpdate(
        Fixtures.update(base, "site-a", 1, floats(0.1, 0, 0, 0), floats(0, 0)).build());
    store.writeUpdate(
        Fixtures.update(base, "site-b", 1, floats(0, 0, 0.3, 0.4), floats(0, -1.5)).build());
    store.writeUpdate(
        Fixtures.update(base, "site-c", 1, floats(0.6, 0.8, 0, 0), floats(0, 0)).build());
    RoundResult result = new RoundJob(store).dpSecret(SECRET).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());

    double c = 1 / Math.sqrt(10);
    double[] sum = {0.1 + 0.6 * c, 0.8 * c, 0.3, 0.4, 0, -1.5};
    double[] noise = mechanism(1.0, 1.0, 4, SECRET).noise(0, base.getVersion(), 6);
    // the noise is drawn in centred coordinates: its stored bias is n_b - 10 n_W . c
    noise[4] -= 10 * 0.5 * noise[0];
    noise[5] -= 10 * 0.5 * noise[2];
    float[] expected = new float[6];
    for (int i = 0; i < 6; i++) {
      expected[i] = (float) ((sum[i] + noise[i]) / 4);
    }
    assertArrayEquals(expected, Models.parameters(store.readModel(1, 0)), 1e-6f);
    Map<String, UpdateAudit> audit =
        result.audit().stream().collect(Collectors.toMap(UpdateAudit::getSite, a -> a));
    assertEquals("accepted", audit.get("site-b").getStatus());
    assertEquals(
        "change norm 0.5000 within 1.000 (privacy.clipNorm); weight 1 (DP-FedAvg)",
        audit.get("site-b").getReason());
    assertEquals(
        "change norm 3.162 clipped to 1.000 (privacy.clipNorm); weight 1 (DP-FedAvg)",
        audit.get("site-c").getReason());
  }

  @Test
  void aCentreOfTheWrongLengthRejectsTheUpdateWithTheReason() throws Exception {
    Store store = federation("wrong-centre", "fedavg", 1.0, 1.0, 4, List.of(0.5f, 0f, 1f));
    Model base = store.readModel(0, 0);
    store.writeUpdate(
        Fixtures.update(base, "site-a", 1, floats(0.1, 0, 0, 0), floats(0, 0)).build());
    RoundResult result = new RoundJob(store).dpSecret(SECRET).execute();
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, result.status());
    assertEquals(
        "privacy.centre has 3 values but model " + base.getVersion() + " has dimension 2",
        result.audit().get(0).getReason());
  }

  @Test
  void theNoiseIsGaussianSeededByTheSecretRoundAndBase() {
    CentralDp dp = mechanism(2.0, 1.0, 10, SECRET);
    double[] a = dp.noise(3, "r3-c0-abc", 200_000);
    double sum = 0;
    double squares = 0;
    for (double v : a) {
      sum += v;
      squares += v * v;
    }
    double mean = sum / a.length;
    double std = Math.sqrt(squares / a.length - mean * mean);
    assertEquals(0, mean, 0.02, "mean of 200,000 draws of N(0, 2^2)");
    assertEquals(2.0, std, 0.02, "standard deviation z x S = 2");
    assertArrayEquals(a, dp.noise(3, "r3-c0-abc", 200_000), "a rerun draws the same noise");
    assertFalse(java.util.Arrays.equals(a, dp.noise(4, "r3-c0-abc", 200_000)));
    assertFalse(java.util.Arrays.equals(a, dp.noise(3, "r3-c1-abc", 200_000)));
    assertFalse(
        java.util.Arrays.equals(
            a, mechanism(2.0, 1.0, 10, SECRET + "!").noise(3, "r3-c0-abc", 200_000)));
  }

  @Test
  void aRerunWithTheSameSecretPublishesTheSameModel() throws Exception {
    float[][] published = new float[3][];
    String[] secrets = {SECRET, SECRET, SECRET + "-other"};
    for (int run = 0; run < 3; run++) {
      Store store = federation("rerun-" + run, "fedavg", 1.0, 1.0, 4);
      Model base = store.readModel(0, 0);
      store.writeUpdate(
          Fixtures.update(base, "site-a", 10, floats(0.1, 0.2, 0, 0), floats(0, 0)).build());
      new RoundJob(store).dpSecret(secrets[run]).execute();
      published[run] = Models.parameters(store.readModel(1, 0));
    }
    assertArrayEquals(published[0], published[1]);
    assertFalse(java.util.Arrays.equals(published[0], published[2]));
  }

  @Test
  void sitesNotDrawnForTheRoundAreRejectedWithTheReason() throws Exception {
    Store store = federation("sampled", "fedavg", 1.0, 0.5, 40);
    Model base = store.readModel(0, 0);
    CentralDp dp = mechanism(1.0, 0.5, 40, SECRET);
    int drawn = 0;
    for (int s = 0; s < 40; s++) {
      String site = "site-" + s;
      store.writeUpdate(
          Fixtures.update(base, site, 10, floats(0.1, 0, 0, 0), floats(0, 0)).build());
      drawn += dp.sampled(0, site) ? 1 : 0;
    }
    assertTrue(drawn > 10 && drawn < 30, "about half of 40 sites drawn: " + drawn);
    RoundResult result = new RoundJob(store).dpSecret(SECRET).execute();
    assertEquals(drawn, result.history().get(0).getParticipants());
    for (UpdateAudit a : result.audit()) {
      if (dp.sampled(0, a.getSite())) {
        assertNotEquals("rejected", a.getStatus());
      } else {
        assertEquals(
            "site " + a.getSite() + " was not drawn for round 0 (privacy.sampleFraction 0.5)",
            a.getReason());
      }
    }
  }

  @Test
  void epsilonRisesRoundByRoundAndARoundBeyondTheBudgetIsRefused() throws Exception {
    Store store = federation("budget", "fedavg", 1.0, 1.0, 1);
    // z = 1, q = 1: RDP says about 4.75 at delta 1e-5 for one round, 7.1 for two, 9.1 for three;
    // the PLD accountant less (a Gaussian of mu sqrt(T): exactly 4.38, 6.57 and 8.39), and history
    // keeps the smaller
    for (int round = 0; round < 2; round++) {
      Model base = store.readModel(round, 0);
      store.writeUpdate(
          Fixtures.update(base, "site-a", 10, floats(0.1, 0, 0, 0), floats(0, 0)).build());
      assertEquals(
          RoundResult.Status.PUBLISHED, new RoundJob(store).dpSecret(SECRET).execute().status());
    }
    List<RoundHistory> history = store.readHistory();
    assertEquals(PrivacyLedger.epsilon(1, 1, 1, 1e-5), history.get(0).getEpsilon(), 1e-12);
    assertEquals(PrivacyLedger.epsilon(1, 1, 2, 1e-5), history.get(1).getEpsilon(), 1e-12);
    assertTrue(history.get(1).getEpsilon() > history.get(0).getEpsilon());

    Model base = store.readModel(2, 0);
    store.writeUpdate(
        Fixtures.update(base, "site-a", 10, floats(0.1, 0, 0, 0), floats(0, 0)).build());
    IllegalStateException refused =
        assertThrows(
            IllegalStateException.class, () -> new RoundJob(store).dpSecret(SECRET).execute());
    double third = PrivacyLedger.epsilon(1, 1, 3, 1e-5);
    assertTrue(
        third > 8 && third < RdpAccountant.sampledGaussian(1, 1, 3).epsilon(1e-5).epsilon(),
        "PLD is below RDP and still refuses: " + third);
    assertEquals(
        String.format(
            java.util.Locale.ROOT,
            "Round 2 is refused: publishing it would bring epsilon to %.3f at delta 1.0E-5, beyond"
                + " the budget of 8.0 (privacy.epsilonBudget); 2 round(s) so far spent %.3f."
                + " Nothing was published",
            third,
            history.get(1).getEpsilon()),
        refused.getMessage());
    assertEquals(2, store.requireLatest().round());
  }

  @Test
  void withoutTheSecretOrWithScaffoldTheRoundRefusesClearly() throws Exception {
    Store store = federation("nosecret", "fedavg", 1.0, 1.0, 4);
    assertEquals(
        "central differential privacy needs a server secret of at least 16 bytes in"
            + " FEDLAKE_DP_SECRET (never in the store)",
        assertThrows(
                IllegalStateException.class, () -> new RoundJob(store).dpSecret(null).execute())
            .getMessage());
    IllegalArgumentException scaffold =
        assertThrows(
            IllegalArgumentException.class, () -> federation("scaffold", "scaffold", 1.0, 1.0, 4));
    assertTrue(
        scaffold.getMessage().startsWith("central differential privacy cannot run with scaffold"),
        scaffold.getMessage());
    assertNull(CentralDp.of(null, 0, SECRET));
  }
}
