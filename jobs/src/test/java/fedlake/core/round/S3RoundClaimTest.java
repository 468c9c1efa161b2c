package fedlake.core.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.store.Store;
import fedlake.jobs.S3ProxyServer;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One committer per round on a real S3 server (s3proxy 3.0.0, which honours {@code If-None-Match:
 * *}): the claim is created with a conditional put, so of two claims of a round exactly one wins.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class S3RoundClaimTest {
  @TempDir static Path dir;
  private static S3ProxyServer server;
  private static Configuration conf;

  @BeforeAll
  static void start() throws Exception {
    server = S3ProxyServer.launch(dir.resolve("s3proxy")).awaitListening();
    conf = new Configuration();
    server.s3aSettings().forEach(conf::set);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static Store newStore(String bucket) {
    server.createBucket(bucket);
    return Store.open("s3a://" + bucket + "/fed", conf);
  }

  @Test
  void ofTwoClaimsOfTheSameRoundExactlyOneWins() {
    Store store = newStore("fedlake-claims");
    TreeMap<Integer, String> bases = new TreeMap<>();
    bases.put(0, "r0-c0-base");
    RoundClaim first = RoundClaim.mine(0, 1, "job-a", 1_000L, bases, List.of());
    RoundClaim second = RoundClaim.mine(0, 1, "job-b", 2_000L, bases, List.of());
    try {
      assertTrue(first.create(store));
      assertFalse(second.create(store), "the claim exists: the second job lost the race");
      assertEquals(first, RoundClaim.current(store, 0).orElseThrow(), "the first claim is kept");
    } finally {
      RoundClaim.ended("job-a");
      RoundClaim.ended("job-b");
    }
  }

  @Test
  void aJobThatListedFirstButClaimsSecondLosesTheRace() throws Exception {
    Store store = newStore("fedlake-race");
    new Federation(store).dimension(2).classes(2).execute();
    Model base = store.readModel(0, 0);
    store.writeUpdate(update(base, "site-a", 10, 1, -2, 0.5f, 0, 0.25f, -1));
    store.writeUpdate(update(base, "site-b", 30, 3, 4, -1.5f, -0.75f, 0.25f, 1));

    CountDownLatch listed = new CountDownLatch(1);
    CountDownLatch released = new CountDownLatch(1);
    RoundJob.Checkpoints hold =
        (point, round) -> {
          if (point == RoundJob.Checkpoint.LISTED) {
            listed.countDown();
            try {
              assertTrue(released.await(60, TimeUnit.SECONDS), "never released");
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IllegalStateException(e);
            }
          }
        };
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try {
      Future<RoundResult> slow =
          thread.submit(() -> new RoundJob(store).checkpoints(hold).execute());
      assertTrue(listed.await(60, TimeUnit.SECONDS), "the first job never listed");

      RoundResult winner = new RoundJob(store).execute(); // claims and publishes
      released.countDown();
      RoundResult loser = slow.get(60, TimeUnit.SECONDS);

      assertEquals(RoundResult.Status.PUBLISHED, winner.status(), winner.message());
      assertEquals(RoundResult.Status.LOST_RACE, loser.status(), loser.message());
      RoundClaim claim = RoundClaim.current(store, 0).orElseThrow();
      assertEquals(
          "Round 0: lost the race: "
              + claim.holder()
              + " claimed it first ("
              + claim.file(store)
              + " exists); this job wrote nothing",
          loser.message());
      assertEquals(1, store.requireLatest().round());
      assertEquals(winner.published().get(0).getVersion(), store.requireLatest().version(0));
    } finally {
      released.countDown();
      thread.shutdownNow();
    }
  }

  /** An update of {@code site} with 2 x 2 weights and 2 biases. */
  private static Update update(Model base, String site, long examples, float... values)
      throws IOException {
    long[] histogram = new long[base.getClassCount()];
    histogram[0] = examples;
    return Update.newBuilder()
        .setUpdateId(UUID.randomUUID().toString())
        .setSite(site)
        .setRound(base.getRound())
        .setCluster(base.getCluster())
        .setBaseModelVersion(base.getVersion())
        .setKind(base.getKind())
        .setDimension(base.getDimension())
        .setClassCount(base.getClassCount())
        .setNumExamples(examples)
        .setLocalEpochs(1)
        .setLocalSteps(1)
        .setWeights(FloatArrays.asList(java.util.Arrays.copyOfRange(values, 0, 4)))
        .setBias(FloatArrays.asList(java.util.Arrays.copyOfRange(values, 4, 6)))
        .setLocalLoss(0.5)
        .setLocalAccuracy(0.75)
        .setLabelHistogram(FloatArrays.asList(histogram))
        .setRunnerVersion("test")
        .setCreatedTime(base.getCreatedTime().plusMillis(1_000))
        .build();
  }
}
