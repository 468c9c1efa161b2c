package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.init.Federation;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.UpdateAudit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The round policy's rule, as the round job and the sensor ({@code round-ready}) apply it. */
class RoundReadinessTest {
  private static final long OPENED = 1_000_000;

  @TempDir Path dir;
  private Path root;
  private Store store;
  private Model base;
  private long opened;

  @BeforeEach
  void init() {
    root = dir.resolve("store");
    store = Store.open(root.toUri().toString());
    new Federation(store)
        .dimension(2)
        .classes(2)
        .adjust(
            spec -> {
              spec.getRoundPolicy().setMinSites(2);
              spec.getRoundPolicy().setDeadlineSeconds(60);
            })
        .execute();
    base = store.readModel(0, 0);
    opened = base.getCreatedTime().toEpochMilli();
  }

  @Test
  void enoughSitesBeforeTheDeadlineOrAnySiteAfterIt() {
    RoundReadiness policy = new RoundReadiness(3, 60);
    Instant deadline = Instant.ofEpochMilli(1_060_000);
    assertEquals(
        new RoundReadiness.Decision(true, RoundReadiness.Reason.ENOUGH_SITES, 3, deadline),
        policy.decide(3, OPENED, OPENED));
    assertEquals(
        new RoundReadiness.Decision(false, RoundReadiness.Reason.WAITING_FOR_SITES, 2, deadline),
        policy.decide(2, OPENED, 1_059_999));
    assertEquals(
        new RoundReadiness.Decision(true, RoundReadiness.Reason.DEADLINE_PASSED, 2, deadline),
        policy.decide(2, OPENED, 1_060_000));
    assertEquals(
        new RoundReadiness.Decision(false, RoundReadiness.Reason.NO_SITES, 0, deadline),
        policy.decide(0, OPENED, 9_000_000));
  }

  @Test
  void withoutADeadlineARoundWaitsForMinSites() {
    RoundReadiness policy = new RoundReadiness(2, 0);
    assertEquals(
        new RoundReadiness.Decision(false, RoundReadiness.Reason.WAITING_FOR_SITES, 1, null),
        policy.decide(1, OPENED, Long.MAX_VALUE / 2));
    assertTrue(policy.decide(2, OPENED, OPENED).ready());
    assertEquals(new RoundReadiness(1, 0), RoundReadiness.of(null));
  }

  @Test
  void badPoliciesAreRefusedWithTheirValue() {
    assertEquals(
        "min-sites must be at least 1, got 0",
        assertThrows(IllegalArgumentException.class, () -> new RoundReadiness(0, 0)).getMessage());
    assertEquals(
        "round-deadline must be 0 (none) or a positive number of seconds, got -5",
        assertThrows(IllegalArgumentException.class, () -> new RoundReadiness(1, -5)).getMessage());
  }

  @Test
  void theRoundJobPublishesFromOneSiteOnlyOnceTheDeadlinePassed() throws Exception {
    store.writeUpdate(
        Fixtures.update(base, "site-a", 10, floats(1, 2, 3, 4), floats(1, -1)).build());

    RoundResult early = new RoundJob(store).clock(() -> opened + 59_999).execute();
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, early.status());
    assertEquals(
        "Only 1 valid update(s) for round 0, the spec asks for at least 2; nothing published",
        early.message());
    assertEquals(0, store.requireLatest().round());

    RoundResult late = new RoundJob(store).clock(() -> opened + 60_000).execute();
    assertEquals(RoundResult.Status.PUBLISHED, late.status(), late.message());
    assertEquals(1, store.requireLatest().round());
    assertEquals(List.of("site-a"), late.history().get(0).getParticipantSites());
  }

  @Test
  void theSensorCountsSitesWithAnUpdateFileWithoutReadingThem() throws Exception {
    RoundReadiness.Check none = RoundReadiness.check(store, null, opened + 60_000);
    assertFalse(none.proceed());
    assertEquals(
        "Round 0 is not ready: 0 site(s) with an update, the spec asks for 2; deadline "
            + Instant.ofEpochMilli(opened + 60_000),
        none.message());

    Path a =
        Path.of(
            store
                .writeUpdate(
                    Fixtures.update(base, "site-a", 10, floats(1, 2, 3, 4), floats(1, -1)).build())
                .toUri());
    // a second upload of site-a and a hidden file do not count as more sites
    Files.copy(a, a.resolveSibling("site-a--second.parquet"));
    Files.copy(a, a.resolveSibling(".site-z--uploading.parquet"));
    RoundReadiness.Check one = RoundReadiness.check(store, null, opened + 59_999);
    assertFalse(one.proceed());
    assertEquals(RoundReadiness.Reason.WAITING_FOR_SITES, one.decision().reason());
    assertEquals(1, one.decision().sites());
    RoundReadiness.Check passed = RoundReadiness.check(store, 0, opened + 60_000);
    assertTrue(passed.proceed());
    assertEquals(
        "Round 0 is ready: its deadline "
            + Instant.ofEpochMilli(opened + 60_000)
            + " passed; 1 site(s) with an update, the spec asks for 2",
        passed.message());

    // a broken file counts for the sensor (it does not read files); the round job, which reads
    // them, then publishes nothing before the deadline
    byte[] bytes = Files.readAllBytes(a);
    Files.write(a.resolveSibling("site-b--broken.parquet"), Arrays.copyOf(bytes, bytes.length / 2));
    assertEquals(
        Set.of("site-a", "site-b"), RoundReadiness.sitesWithUpdates(store, 0, LateUpdates.IGNORED));
    RoundReadiness.Check two = RoundReadiness.check(store, null, opened);
    assertTrue(two.proceed());
    assertEquals("Round 0 is ready: 2 site(s) with an update, the spec asks for 2", two.message());
    RoundResult refused = new RoundJob(store).clock(() -> opened).execute();
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, refused.status());
    // the audit row of the unreadable file still names its site, from the file name
    UpdateAudit broken =
        store.readAudit(0).stream()
            .filter(r -> r.getFile().endsWith("site-b--broken.parquet"))
            .findFirst()
            .orElseThrow();
    assertEquals("site-b", broken.getSite());
    assertNull(broken.getNumExamples());
    assertNull(broken.getUpdateId());

    new RoundJob(store).clock(() -> opened + 60_000).execute();
    RoundReadiness.Check done = RoundReadiness.check(store, 0, opened + 60_000);
    assertTrue(done.done());
    assertTrue(done.proceed());
    assertEquals("Round 0 was aggregated already (current round is 1)", done.message());
    assertEquals(
        "Cannot check round 5: the current round is 1",
        assertThrows(IllegalStateException.class, () -> RoundReadiness.check(store, 5, 0))
            .getMessage());
  }

  @Test
  void unregisteredSitesDoNotCount() throws IOException {
    store.registerSites(List.of("site-a"));
    store.writeUpdate(
        Fixtures.update(base, "site-x", 10, floats(1, 2, 3, 4), floats(1, -1)).build());
    assertEquals(Set.of(), RoundReadiness.sitesWithUpdates(store, 0, LateUpdates.IGNORED));
  }
}
