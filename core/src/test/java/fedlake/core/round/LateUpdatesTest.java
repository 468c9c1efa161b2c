package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.store.Store;
import fedlake.schema.LateUpdatePolicy;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.UpdateAudit;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Buffered asynchronous aggregation: a late update counts in the next round, rebased onto its model
 * and weighted down by its staleness; known answers by hand (2 x 2 head, FedAvg).
 */
class LateUpdatesTest {
  @TempDir Path dir;

  private Store federation(LateUpdatePolicy policy, double exponent) {
    Store store = Store.open(dir.resolve("store-" + policy).toUri().toString());
    new Federation(store)
        .dimension(2)
        .classes(2)
        .adjust(
            spec -> {
              spec.getRoundPolicy().setLateUpdates(policy);
              spec.getRoundPolicy().setMaxStaleness(2);
              spec.getRoundPolicy().setStalenessExponent(exponent);
            })
        .execute();
    return store;
  }

  /**
   * Round 0: site-a publishes (1,2,3,4 | 1,-1). Then site-b's update trained from round 0's zero
   * model arrives late (2,2,2,2 | 0,0; 10 examples) and site-c trains on time from round 1's model
   * (+1 on each weight; 5 examples).
   */
  private Model roundOneWithALateUpdate(Store store) throws Exception {
    Model base0 = store.readModel(0, 0);
    store.writeUpdate(
        Fixtures.update(base0, "site-a", 10, floats(1, 2, 3, 4), floats(1, -1)).build());
    assertEquals(RoundResult.Status.PUBLISHED, new RoundJob(store).execute().status());
    store.writeUpdate(
        Fixtures.update(base0, "site-b", 10, floats(2, 2, 2, 2), floats(0, 0)).build());
    Model base1 = store.readModel(1, 0);
    store.writeUpdate(
        Fixtures.update(base1, "site-c", 5, floats(2, 3, 4, 5), floats(1, -1)).build());
    return base1;
  }

  @Test
  void aLateUpdateIsRebasedAndWeightedDownByItsStaleness() throws Exception {
    Store store = federation(LateUpdatePolicy.BUFFER, 1.0);
    roundOneWithALateUpdate(store);

    RoundReadiness.Check sensor = RoundReadiness.check(store, null, System.currentTimeMillis());
    assertEquals(2, sensor.decision().sites(), "the sensor counts the pending late file");

    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    // site-b: change (2,2,2,2 | 0,0) onto round 1's model = (3,4,5,6 | 1,-1), weight 10/2 = 5;
    // site-c: (2,3,4,5 | 1,-1), weight 5; equal weights: the midpoint
    assertArrayEquals(floats(2.5, 3.5, 4.5, 5.5, 1, -1), Models.parameters(store.readModel(2, 0)));

    Map<String, UpdateAudit> audit =
        store.readAudit(1).stream().collect(Collectors.toMap(UpdateAudit::getSite, a -> a));
    assertEquals(1, audit.get("site-b").getStaleness());
    assertEquals(
        "late by 1 round(s): trained from round 0's model, its change added to round 1's;"
            + " weight 10 discounted to 5",
        audit.get("site-b").getReason());
    assertTrue(audit.get("site-b").getFile().contains("round-000000"));
    assertEquals(0, audit.get("site-c").getStaleness());
    assertNull(audit.get("site-c").getReason());
    RoundHistory row = store.readHistory().get(1);
    assertEquals(List.of("site-b", "site-c"), row.getParticipantSites());
    assertEquals(1, row.getLateParticipants());

    // the late file was audited in round 1: round 2 does not take it again
    assertEquals(List.of(), LateUpdates.of(spec(store)).earlier(store, 2).pending());
    assertEquals(
        Set.of(),
        RoundReadiness.sitesWithUpdates(store, 2, LateUpdates.of(spec(store))),
        "nothing pending for round 2");
  }

  @Test
  void ignoredLateUpdatesAreNotEvenListed() throws Exception {
    Store store = federation(LateUpdatePolicy.IGNORE, 1.0);
    roundOneWithALateUpdate(store);
    assertEquals(
        1, RoundReadiness.check(store, null, System.currentTimeMillis()).decision().sites());

    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    assertArrayEquals(floats(2, 3, 4, 5, 1, -1), Models.parameters(store.readModel(2, 0)));
    assertEquals(List.of("site-c"), store.readHistory().get(1).getParticipantSites());
    assertEquals(0, store.readHistory().get(1).getLateParticipants());
  }

  @Test
  void anUpdateLaterThanMaxStalenessIsRejectedWithTheRule() throws Exception {
    Store store = federation(LateUpdatePolicy.BUFFER, 0.5);
    for (int round = 0; round < 3; round++) {
      Model base = store.readModel(round, 0);
      store.writeUpdate(
          Fixtures.update(base, "site-a", 10, floats(round, 1, 1, 1), floats(0, 0)).build());
      assertEquals(RoundResult.Status.PUBLISHED, new RoundJob(store).execute().status());
    }
    // uploaded into round 3's folder: site-b trained from round 0 (3 late), site-c from round 1
    moveIntoRound(
        store,
        Fixtures.update(store.readModel(0, 0), "site-b", 10, floats(1, 1, 1, 1), floats(0, 0)),
        3);
    moveIntoRound(
        store,
        Fixtures.update(store.readModel(1, 0), "site-c", 10, floats(1, 1, 1, 1), floats(0, 0)),
        3);

    new RoundJob(store).execute();
    Map<String, UpdateAudit> audit =
        store.readAudit(3).stream().collect(Collectors.toMap(UpdateAudit::getSite, a -> a));
    assertEquals(
        "wrong round: update is for round 0, the current round is 3 (the round policy takes"
            + " updates up to 2 round(s) late)",
        audit.get("site-b").getReason());
    assertNull(audit.get("site-b").getStaleness());
    assertEquals(2, audit.get("site-c").getStaleness());
    assertTrue(audit.get("site-c").getReason().endsWith("weight 10 discounted to 6"));
  }

  private static void moveIntoRound(Store store, fedlake.schema.Update.Builder update, int round)
      throws Exception {
    org.apache.hadoop.fs.Path written = store.writeUpdate(update.build());
    store.fileSystem().mkdirs(store.updatesDir(round));
    assertTrue(
        store
            .fileSystem()
            .rename(
                written,
                new org.apache.hadoop.fs.Path(store.updatesDir(round), written.getName())));
  }

  @Test
  void theWeightIsRoundedAndNeverZero() {
    LateUpdates rule = new LateUpdates(2, 0.5);
    assertEquals(100, rule.weight(100, 0));
    assertEquals(71, rule.weight(100, 1)); // 100 / sqrt(2) = 70.7
    assertEquals(58, rule.weight(100, 2)); // 100 / sqrt(3) = 57.7
    assertEquals(1, rule.weight(1, 2));
    assertEquals(List.of(1, 2), rule.earlierRounds(3));
    assertEquals(List.of(0), rule.earlierRounds(1));
    assertEquals(
        "max-staleness must be >= 0, got -1",
        assertThrows(IllegalArgumentException.class, () -> new LateUpdates(-1, 0.5)).getMessage());
  }

  private static fedlake.schema.FederationSpec spec(Store store) {
    return fedlake.core.spec.Specs.current(store).orElseThrow();
  }
}
