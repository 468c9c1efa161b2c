package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two round jobs on the same round of one store: exactly one publishes, the other says it lost the
 * race and leaves the store as the winner wrote it. Interleavings are forced with latches at the
 * job's checkpoints, never with sleeps.
 */
class RoundRaceTest {
  /** (10 * a + 30 * b) / 40 of the two first updates, by hand. */
  private static final float[] TWO_UPDATES = {2.5f, 2.5f, -1f, -0.5625f, 0.25f, 0.5f};

  /** (10 * a + 30 * b + 20 * c) / 60 with c = (0, 0, 0, 0, 0, 0), by hand. */
  private static final float[] THREE_UPDATES = {5f / 3, 5f / 3, -2f / 3, -0.375f, 1f / 6, 1f / 3};

  @TempDir Path dir;
  private Path root;
  private Store store;
  private Model base;
  private final ExecutorService threads = Executors.newFixedThreadPool(2);

  @BeforeEach
  void init() throws IOException {
    root = dir.resolve("store");
    store = Store.open(root.toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    base = store.readModel(0, 0);
    upload(Fixtures.update(base, "site-a", 10, floats(1, -2, 0.5, 0), floats(0.25, -1)));
    upload(Fixtures.update(base, "site-b", 30, floats(3, 4, -1.5, -0.75), floats(0.25, 1)));
  }

  @AfterEach
  void stop() {
    threads.shutdownNow();
  }

  private void upload(Update.Builder update) throws IOException {
    store.writeUpdate(update.build());
  }

  /** The update that lands between the two jobs' listings. */
  private void lateUpload() throws IOException {
    upload(Fixtures.update(base, "site-c", 20, floats(0, 0, 0, 0), floats(0, 0)));
  }

  /**
   * Holds a job at one checkpoint until {@link #release}; {@link #await} waits for it to arrive.
   */
  private static final class Hold implements RoundJob.Checkpoints {
    private final RoundJob.Checkpoint at;
    private final CountDownLatch arrived = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    Hold(RoundJob.Checkpoint at) {
      this.at = at;
    }

    @Override
    public void reached(RoundJob.Checkpoint point, int round) {
      if (point == at) {
        arrived.countDown();
        try {
          assertTrue(released.await(60, TimeUnit.SECONDS), "never released");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
    }

    void await() throws InterruptedException {
      assertTrue(arrived.await(60, TimeUnit.SECONDS), "the job never reached " + at);
    }

    void release() {
      released.countDown();
    }
  }

  /** Every file under the store (hidden ones too) with a digest of its content. */
  private Map<String, String> snapshot() throws Exception {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
        files.put(
            root.relativize(p).toString(),
            HexFormat.of().formatHex(digest) + "@" + Files.getLastModifiedTime(p));
      }
    }
    return files;
  }

  private List<String> roundOneFiles() throws IOException {
    try (Stream<Path> files = Files.list(root.resolve("models/round-000001"))) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** One published round-1 model, and the pointer names the version its file holds. */
  private Model assertOnePublishedModel(float[] expected) throws IOException {
    assertEquals(List.of("cluster-0.parquet"), roundOneFiles());
    Model published = store.readModel(1, 0);
    assertEquals(1, store.requireLatest().round());
    assertEquals(published.getVersion(), store.requireLatest().version(0));
    assertArrayEquals(expected, Models.parameters(published), 1e-6f);
    assertEquals(1, store.readHistory().size());
    assertEquals(published.getVersion(), store.readHistory().get(0).getPublishedModelVersion());
    return published;
  }

  @Test
  void anUpdateLandingBetweenTwoListingsGivesOneModelAndOneLoser() throws Exception {
    Hold first = new Hold(RoundJob.Checkpoint.LISTED);
    Future<RoundResult> slow =
        threads.submit(() -> new RoundJob(store).checkpoints(first).execute());
    first.await(); // the first job listed two updates
    lateUpload();

    RoundResult winner = new RoundJob(store).execute(); // lists three, claims, publishes
    Map<String, String> asTheWinnerLeftIt = snapshot();
    first.release();
    RoundResult loser = slow.get(60, TimeUnit.SECONDS);

    assertEquals(RoundResult.Status.PUBLISHED, winner.status(), winner.message());
    assertEquals(3, winner.accepted());
    assertEquals(RoundResult.Status.LOST_RACE, loser.status(), loser.message());
    RoundClaim claim = RoundClaim.current(store, 0).orElseThrow();
    assertEquals(
        "Round 0: lost the race: "
            + claim.holder()
            + " claimed it first ("
            + claim.file(store)
            + " exists); this job wrote nothing",
        loser.message());
    assertEquals(asTheWinnerLeftIt, snapshot(), "the loser must leave the store as it was");
    assertEquals(
        winner.published().get(0).getVersion(),
        assertOnePublishedModel(THREE_UPDATES).getVersion());
  }

  @Test
  void aJobPausedAfterWritingItsModelMakesTheOtherLose() throws Exception {
    Hold paused = new Hold(RoundJob.Checkpoint.MODELS_WRITTEN);
    Future<RoundResult> slow =
        threads.submit(() -> new RoundJob(store).checkpoints(paused).execute());
    paused.await(); // claimed, listed two updates, wrote its round-1 model
    lateUpload();
    Map<String, String> before = snapshot();

    RoundResult second = new RoundJob(store).execute();

    assertEquals(RoundResult.Status.LOST_RACE, second.status(), second.message());
    RoundClaim claim = RoundClaim.current(store, 0).orElseThrow();
    assertEquals(
        "Round 0: lost the race: "
            + claim.holder()
            + " is aggregating it ("
            + claim.file(store)
            + "); this job wrote nothing",
        second.message());
    assertEquals(before, snapshot(), "the loser must not write");
    paused.release();
    RoundResult first = slow.get(60, TimeUnit.SECONDS);
    assertEquals(RoundResult.Status.PUBLISHED, first.status(), first.message());
    assertEquals(2, first.accepted());
    assertEquals(
        first.published().get(0).getVersion(), assertOnePublishedModel(TWO_UPDATES).getVersion());
  }

  @Test
  void twoRealJobsOnThreadsPublishOneModelAndOneSaysItLost() throws Exception {
    Path top = dir;
    for (int attempt = 0; attempt < 4; attempt++) {
      if (attempt > 0) {
        dir = Files.createDirectories(top.resolve("attempt-" + attempt));
        init(); // a fresh store in a new folder
      }
      CyclicBarrier listed = new CyclicBarrier(2);
      AtomicBoolean landed = new AtomicBoolean();
      RoundJob.Checkpoints race =
          (point, round) -> {
            if (point == RoundJob.Checkpoint.LISTED) {
              try {
                if (landed.compareAndSet(false, true)) {
                  lateUpload(); // lands after the first listing, maybe before the second
                }
                listed.await(60, TimeUnit.SECONDS); // both have read the pointer and listed
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            }
          };
      List<Future<RoundResult>> jobs = new ArrayList<>();
      for (int j = 0; j < 2; j++) {
        jobs.add(threads.submit(() -> new RoundJob(store).checkpoints(race).execute()));
      }
      List<RoundResult.Status> statuses = new ArrayList<>();
      RoundResult winner = null;
      for (Future<RoundResult> job : jobs) {
        RoundResult result = job.get(120, TimeUnit.SECONDS);
        statuses.add(result.status());
        if (result.status() == RoundResult.Status.PUBLISHED) {
          winner = result;
        } else {
          assertTrue(result.message().startsWith("Round 0: lost the race: job "), result.message());
          assertTrue(result.message().endsWith("; this job wrote nothing"), result.message());
        }
      }
      assertEquals(
          List.of(RoundResult.Status.PUBLISHED, RoundResult.Status.LOST_RACE),
          statuses.stream().sorted().toList(),
          "attempt " + attempt + ": " + statuses);
      Model published =
          assertOnePublishedModel(winner.accepted() == 3 ? THREE_UPDATES : TWO_UPDATES);
      assertEquals(winner.published().get(0).getVersion(), published.getVersion());
    }
  }

  @Test
  void aJobWhoseClaimWasTakenOverDoesNotMoveThePointer() throws Exception {
    Hold paused = new Hold(RoundJob.Checkpoint.HISTORY_WRITTEN);
    Future<RoundResult> slow =
        threads.submit(() -> new RoundJob(store).checkpoints(paused).execute());
    paused.await(); // models, audit and history written; the pointer not moved yet
    RoundClaim first = RoundClaim.current(store, 0).orElseThrow();
    // a job on another host found the claim expired and took the round over
    RoundClaim takeover =
        RoundClaim.mine(0, first.generation() + 1, "other-job", 0L, first.bases(), first.files());
    assertTrue(takeover.create(store));
    RoundClaim.ended("other-job");
    byte[] pointer = Files.readAllBytes(root.resolve("models/_LATEST"));

    paused.release();
    RoundResult result = slow.get(60, TimeUnit.SECONDS);

    assertEquals(RoundResult.Status.LOST_RACE, result.status(), result.message());
    assertEquals(
        "Round 0: lost the race after aggregating: "
            + takeover.holder()
            + " holds the claim; the pointer was left as it is",
        result.message());
    assertArrayEquals(pointer, Files.readAllBytes(root.resolve("models/_LATEST")));
    assertEquals(0, store.requireLatest().round());
  }
}
