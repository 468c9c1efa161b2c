package fedlake.core.round;

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
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The round job with the LocalScanner on a local store, end to end through real Parquet files. */
class RoundJobTest {
  private static final String TRUNCATED =
      "not a readable Parquet file: truncated or corrupt (no valid footer)";

  @TempDir Path dir;
  private Path root;
  private Store store;
  private Model base;

  @BeforeEach
  void init() {
    root = dir.resolve("store");
    store = Store.open(root.toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    base = store.readModel(0, 0);
  }

  /**
   * A clock that advances 10 ms a call: started 1000, checked 1010, created 1020, aggregated 1030,
   * written 1040.
   */
  private static RoundJob job(Store store) {
    AtomicLong now = new AtomicLong(990);
    return new RoundJob(store).clock(() -> now.addAndGet(10));
  }

  private Update.Builder update(String site, long examples, float[] weights, float[] bias) {
    return Fixtures.update(base, site, examples, weights, bias);
  }

  private Path upload(Update.Builder update) throws IOException {
    return Path.of(store.writeUpdate(update.build()).toUri());
  }

  /** A broken-off upload: the first half of a real update file, saved under {@code name}. */
  private Path truncatedCopy(Path real, String name) throws IOException {
    byte[] bytes = Files.readAllBytes(real);
    return Files.write(real.resolveSibling(name), Arrays.copyOf(bytes, bytes.length / 2));
  }

  private static String uri(Path file) {
    return new org.apache.hadoop.fs.Path(file.toUri()).toString();
  }

  private byte[] pointer() throws IOException {
    return Files.readAllBytes(root.resolve("models/_LATEST"));
  }

  /** Every file under the store (hidden ones too) with a digest of its content. */
  /** Sets every file's modification time an hour back, so that any rewrite changes it. */
  private void backdateEveryFile() throws Exception {
    FileTime hourAgo = FileTime.fromMillis(System.currentTimeMillis() - 3_600_000L);
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        Files.setLastModifiedTime(p, hourAgo);
      }
    }
  }

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

  private static float[] parameters(Model model) {
    return Models.parameters(model);
  }

  // ---- the main scenario --------------------------------------------------------------------

  /** Two good updates (10 and 30 examples), a truncated file and an update holding a NaN. */
  private void uploadMixedRound() throws IOException {
    Path a =
        upload(
            update("site-a", 10, floats(1, -2, 0.5, 0), floats(0.25, -1))
                .setLocalLoss(0.4)
                .setLocalAccuracy(0.8));
    upload(
        update("site-b", 30, floats(3, 4, -1.5, -0.75), floats(0.25, 1))
            .setLocalLoss(0.8)
            .setLocalAccuracy(0.6));
    truncatedCopy(a, "site-c--truncated.parquet");
    upload(update("site-d", 5, floats(1, 1, Float.NaN, 1), floats(0, 0)));
  }

  @Test
  void publishesTheWeightedMeanOfTheGoodUpdatesAndAuditsTheBadOnes() throws Exception {
    uploadMixedRound();
    RoundResult result = job(store).execute();

    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    Model next = result.published().get(0);
    // (10 * a + 30 * b) / 40, by hand
    assertArrayEquals(new float[] {2.5f, 2.5f, -1f, -0.5625f, 0.25f, 0.5f}, parameters(next), 0f);
    assertEquals(1, next.getRound());
    assertEquals(0, next.getCluster());
    assertEquals(base.getVersion(), next.getParentVersion());
    assertEquals("fedavg", next.getStrategy());
    assertEquals(2, next.getParticipants());
    assertEquals(Instant.ofEpochMilli(1020), next.getCreatedTime());
    assertEquals(Models.version(next), next.getVersion());
    assertTrue(next.getVersion().startsWith("r1-c0-"), next.getVersion());
    assertEquals(
        "Round 0: published [" + next.getVersion() + "] from 2 update(s) with fedavg, rejected 2",
        result.message());

    // the pointer moved to the new model, which is what the store now serves
    Latest latest = store.requireLatest();
    assertEquals(1, latest.round());
    assertEquals(next.getVersion(), latest.version(0));
    assertArrayEquals(parameters(next), parameters(store.readModel(1, 0)), 0f);

    // one audit row per file, sorted by file name
    List<UpdateAudit> audit = store.readAudit(0);
    assertEquals(4, audit.size());
    assertEquals(result.audit().size(), audit.size());
    UpdateAudit a = audit.get(0);
    UpdateAudit b = audit.get(1);
    UpdateAudit c = audit.get(2);
    UpdateAudit d = audit.get(3);
    assertEquals(
        List.of("accepted", "accepted", "rejected", "rejected"),
        audit.stream().map(UpdateAudit::getStatus).toList());
    assertEquals( // the truncated file's site comes from its name (site-c--truncated.parquet)
        Arrays.asList("site-a", "site-b", "site-c", "site-d"),
        audit.stream().map(UpdateAudit::getSite).toList());
    assertNull(a.getReason());
    assertEquals(0, a.getCluster());
    assertEquals(10L, a.getNumExamples());
    assertEquals(Math.sqrt(1 + 4 + 0.25 + 0.0625 + 1), a.getUpdateNorm(), 1e-12);
    assertEquals(30L, b.getNumExamples());
    assertEquals(uri(root.resolve("updates/round-000000/site-c--truncated.parquet")), c.getFile());
    assertEquals(TRUNCATED, c.getReason());
    assertNull(c.getCluster());
    assertNull(c.getNumExamples());
    assertEquals(
        Files.size(root.resolve("updates/round-000000/site-c--truncated.parquet")),
        c.getFileBytes());
    assertEquals("non-finite parameter NaN at index 2", d.getReason());
    assertEquals(5L, d.getNumExamples());
    assertNull(d.getCluster(), "a rejected update is aggregated into no cluster");
    assertEquals(Instant.ofEpochMilli(1030), a.getCheckedTime());

    // one history row
    List<RoundHistory> history = store.readHistory();
    assertEquals(1, history.size());
    RoundHistory h = history.get(0);
    assertEquals(0, h.getRound());
    assertEquals(0, h.getCluster());
    assertEquals("published", h.getStatus());
    assertEquals(
        "Aggregated 2 update(s) with fedavg into "
            + next.getVersion()
            + "; rejected 2 file(s), see audit",
        h.getMessage());
    assertEquals("fedavg", h.getStrategy());
    assertEquals(base.getVersion(), h.getBaseModelVersion());
    assertEquals(next.getVersion(), h.getPublishedModelVersion());
    assertEquals(2, h.getParticipants());
    assertEquals(2, h.getRejected());
    assertEquals(List.of("site-a", "site-b"), h.getParticipantSites());
    assertEquals(40, h.getTotalExamples());
    assertEquals((0.4 * 10 + 0.8 * 30) / 40, h.getWeightedLocalLoss(), 1e-12);
    assertEquals((0.8 * 10 + 0.6 * 30) / 40, h.getWeightedLocalAccuracy(), 1e-12);
    double normA = Math.sqrt(6.3125);
    double normB = Math.sqrt(9 + 16 + 2.25 + 0.5625 + 0.0625 + 1);
    assertEquals(normA, h.getUpdateNormMin(), 1e-12);
    assertEquals(normB, h.getUpdateNormMax(), 1e-12);
    assertEquals((normA + normB) / 2, h.getUpdateNormMean(), 1e-12);
    assertEquals(
        Math.sqrt(6.25 + 6.25 + 1 + 0.31640625 + 0.0625 + 0.25), h.getModelChangeNorm(), 1e-12);
    assertFalse(h.getCalibrated());
    assertNull(h.getProbeAccuracy());
    assertEquals(Instant.ofEpochMilli(1000), h.getStartedTime());
    assertEquals(10, h.getValidateMillis());
    assertEquals(20, h.getAggregateMillis());
    assertEquals(10, h.getPublishMillis());
    assertEquals(40, h.getTotalMillis());
    assertEquals(List.of(h), result.history());
  }

  @Test
  void duckDbReadsTheSameHistoryAndAudit() throws Exception {
    uploadMixedRound();
    RoundResult result = job(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status());
    try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
        Statement sql = connection.createStatement()) {
      try (ResultSet rows =
          sql.executeQuery(
              "SELECT round, cluster, status, participants, rejected, totalExamples,"
                  + " weightedLocalLoss, publishedModelVersion, len(participantSites) AS sites"
                  + " FROM read_parquet('"
                  + root.resolve("history")
                  + "/*.parquet')")) {
        assertTrue(rows.next());
        assertEquals(0, rows.getInt("round"));
        assertEquals(0, rows.getInt("cluster"));
        assertEquals("published", rows.getString("status"));
        assertEquals(2, rows.getInt("participants"));
        assertEquals(2, rows.getInt("rejected"));
        assertEquals(40, rows.getLong("totalExamples"));
        assertEquals(0.7, rows.getDouble("weightedLocalLoss"), 1e-12);
        assertEquals(
            result.published().get(0).getVersion(), rows.getString("publishedModelVersion"));
        assertEquals(2, rows.getInt("sites"));
        assertFalse(rows.next(), "one history row per round and cluster");
      }
      try (ResultSet rows =
          sql.executeQuery(
              "SELECT status, count(*) AS files, sum(coalesce(numExamples, 0)) AS examples,"
                  + " string_agg(coalesce(reason, ''), '|' ORDER BY file) AS reasons"
                  + " FROM read_parquet('"
                  + root.resolve("audit")
                  + "/*.parquet') GROUP BY status ORDER BY status")) {
        assertTrue(rows.next());
        assertEquals("accepted", rows.getString("status"));
        assertEquals(2, rows.getInt("files"));
        assertEquals(40, rows.getLong("examples"));
        assertTrue(rows.next());
        assertEquals("rejected", rows.getString("status"));
        assertEquals(2, rows.getInt("files"));
        assertEquals(5, rows.getLong("examples"));
        assertEquals(TRUNCATED + "|non-finite parameter NaN at index 2", rows.getString("reasons"));
        assertFalse(rows.next());
      }
    }
  }

  @Test
  void storeHoldsOnlyTheDocumentedFilesAfterARound() throws Exception {
    uploadMixedRound();
    job(store).execute();
    List<String> names = new ArrayList<>(snapshot().keySet());
    names.removeIf(n -> n.startsWith("updates/round-000000/site-"));
    assertEquals(
        List.of(
            "audit/round-000000.parquet",
            "history/round-000000.parquet",
            "models/_LATEST",
            "models/_claims/round-000000/claim-0001",
            "models/round-000000/cluster-0.parquet",
            "models/round-000001/cluster-0.parquet",
            "spec/spec-000001.json"),
        names,
        "no temporary or checksum files may be left behind");
    try (Stream<Path> updates = Files.list(root.resolve("updates/round-000000"))) {
      assertEquals(4, updates.count(), "four uploads and nothing else");
    }
  }

  // ---- rounds that publish nothing ------------------------------------------------------------

  @Test
  void onlyBadFilesPublishNothingButRecordHistory() throws Exception {
    Path a =
        upload(
            update("site-a", 10, floats(1, 1, 1, 1), floats(0, 0))
                .setBaseModelVersion("r0-c0-000000000000"));
    truncatedCopy(a, "site-b--truncated.parquet");
    byte[] before = pointer();

    RoundResult result = job(store).execute();

    assertEquals(RoundResult.Status.NO_VALID_UPDATES, result.status());
    assertEquals(
        "No valid update among 2 file(s) for round 0; nothing published; rejected 2 file(s), see audit",
        result.message());
    assertTrue(result.published().isEmpty());
    assertArrayEquals(before, pointer(), "the pointer must not move");
    assertFalse(Files.exists(root.resolve("models/round-000001")), "no model may be written");
    assertEquals(0, store.requireLatest().round());
    List<RoundHistory> history = store.readHistory();
    assertEquals(1, history.size());
    RoundHistory h = history.get(0);
    assertEquals("no-valid-updates", h.getStatus());
    assertNull(h.getPublishedModelVersion());
    assertNull(h.getModelChangeNorm());
    assertNull(h.getWeightedLocalLoss());
    assertEquals(0, h.getParticipants());
    assertEquals(2, h.getRejected());
    assertEquals(0, h.getTotalExamples());
    assertEquals(List.of(), h.getParticipantSites());
    List<UpdateAudit> audit = store.readAudit(0);
    assertEquals(
        List.of(
            "stale base model: trained from r0-c0-000000000000, the current model is "
                + base.getVersion(),
            TRUNCATED),
        audit.stream().map(UpdateAudit::getReason).toList());

    // a site uploads a good update afterwards: rerunning the round publishes and replaces the
    // history row
    upload(update("site-c", 4, floats(2, 0, 0, 2), floats(1, -1)));
    RoundResult retry = job(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, retry.status());
    assertArrayEquals(floats(2, 0, 0, 2, 1, -1), parameters(store.readModel(1, 0)), 0f);
    List<RoundHistory> after = store.readHistory();
    assertEquals(1, after.size(), "the round's history file is replaced, not appended to");
    assertEquals("published", after.get(0).getStatus());
    assertEquals(1, after.get(0).getParticipants());
    assertEquals(2, after.get(0).getRejected());
  }

  @Test
  void aRoundWithoutFilesPublishesNothing() throws Exception {
    RoundResult result = job(store).execute();
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, result.status());
    assertEquals("No update files for round 0; nothing published", result.message());
    assertEquals(0, store.requireLatest().round());
    assertEquals(List.of(), store.readAudit(0));
  }

  // ---- reruns and crashes ---------------------------------------------------------------------

  @Test
  void rerunAfterSuccessIsAlreadyDoneAndWritesNothing() throws Exception {
    uploadMixedRound();
    assertEquals(RoundResult.Status.PUBLISHED, job(store).round(0).execute().status());
    backdateEveryFile(); // a rewrite would show in the modification times
    Map<String, String> before = snapshot();

    RoundResult again = job(store).round(0).execute();

    assertEquals(RoundResult.Status.ALREADY_DONE, again.status());
    assertEquals(
        "Round 0 was aggregated already (current round is 1); nothing to do", again.message());
    assertTrue(again.published().isEmpty());
    assertTrue(again.history().isEmpty());
    assertEquals(before, snapshot());
  }

  @Test
  void aFutureRoundIsAnError() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> job(store).round(3).execute());
    assertEquals("Cannot aggregate round 3: the current round is 0", e.getMessage());
  }

  @Test
  void crashBeforeThePointerMovedIsRepairedByARerun() throws Exception {
    uploadMixedRound();
    byte[] roundZeroPointer = pointer();
    Model first = job(store).round(0).execute().published().get(0);
    // the job died after writing the model, audit and history but before moving the pointer
    Files.write(root.resolve("models/_LATEST"), roundZeroPointer);
    assertEquals(0, store.requireLatest().round());

    RoundResult rerun = job(store).round(0).execute();

    assertEquals(RoundResult.Status.PUBLISHED, rerun.status());
    assertEquals(first.getVersion(), rerun.published().get(0).getVersion());
    assertArrayEquals(parameters(first), parameters(store.readModel(1, 0)), 0f);
    assertEquals(first.getVersion(), store.requireLatest().version(0));
    List<RoundHistory> history = store.readHistory();
    assertEquals(1, history.size(), "one history row per round, no duplicates");
    assertEquals(first.getVersion(), history.get(0).getPublishedModelVersion());
    assertEquals(4, store.readAudit(0).size());
  }

  @Test
  void crashRightAfterTheModelFileIsRepairedByARerun() throws Exception {
    uploadMixedRound();
    byte[] roundZeroPointer = pointer();
    Model first = job(store).round(0).execute().published().get(0);
    // the job died after writing the next model file only
    Files.write(root.resolve("models/_LATEST"), roundZeroPointer);
    Files.delete(root.resolve("history/round-000000.parquet"));
    Files.delete(root.resolve("audit/round-000000.parquet"));

    RoundResult rerun = job(store).round(0).execute();

    assertEquals(first.getVersion(), rerun.published().get(0).getVersion());
    assertEquals(1, store.requireLatest().round());
    assertEquals(1, store.readHistory().size());
    assertEquals(4, store.readAudit(0).size());

    // the next round then builds on the same model
    Model roundOne = store.readModel(1, 0);
    upload(Fixtures.update(roundOne, "site-a", 2, floats(0, 0, 0, 0), floats(0, 0)));
    RoundResult next = job(store).round(1).execute();
    assertEquals(RoundResult.Status.PUBLISHED, next.status());
    assertEquals(List.of(0, 1), store.historyRounds());
    assertEquals(2, store.readHistory().size());
  }

  // ---- several uploads of one site ------------------------------------------------------------

  @Test
  void latestValidUploadOfASiteCountsAndTheOlderIsSuperseded() throws Exception {
    Path older =
        upload(
            update("site-a", 10, floats(100, 100, 100, 100), floats(100, 100))
                .setUpdateId("a-old")
                .setCreatedTime(base.getCreatedTime().plusMillis(1000)));
    Path newer =
        upload(
            update("site-a", 10, floats(1, -2, 0.5, 0), floats(0.25, -1))
                .setUpdateId("a-new")
                .setCreatedTime(base.getCreatedTime().plusMillis(2000)));
    upload(update("site-b", 30, floats(3, 4, -1.5, -0.75), floats(0.25, 1)).setUpdateId("b"));

    RoundResult result = job(store).execute();

    assertArrayEquals(
        new float[] {2.5f, 2.5f, -1f, -0.5625f, 0.25f, 0.5f},
        parameters(result.published().get(0)),
        0f);
    Map<String, UpdateAudit> byId = new TreeMap<>();
    result.audit().forEach(a -> byId.put(a.getUpdateId(), a));
    assertEquals("accepted", byId.get("a-new").getStatus());
    assertEquals("rejected", byId.get("a-old").getStatus());
    assertEquals(
        "superseded: site site-a uploaded again for this round ("
            + uri(newer)
            + "); its latest valid update counts",
        byId.get("a-old").getReason());
    assertEquals(uri(older), byId.get("a-old").getFile());
    RoundHistory h = result.history().get(0);
    assertEquals(2, h.getParticipants());
    assertEquals(1, h.getRejected());
    assertEquals(40, h.getTotalExamples());
    assertEquals(List.of("site-a", "site-b"), h.getParticipantSites());
  }

  @Test
  void aLaterCorruptUploadDoesNotShadowAnEarlierValidOne() throws Exception {
    Path valid =
        upload(
            update("site-a", 10, floats(1, -2, 0.5, 0), floats(0.25, -1))
                .setUpdateId("a-valid")
                .setCreatedTime(base.getCreatedTime().plusMillis(1000)));
    upload(
        update("site-a", 10, floats(Float.NaN, 0, 0, 0), floats(0, 0))
            .setUpdateId("a-nan")
            .setCreatedTime(base.getCreatedTime().plusMillis(3000)));
    truncatedCopy(valid, "site-a--zz-broken.parquet");

    RoundResult result = job(store).execute();

    assertEquals(RoundResult.Status.PUBLISHED, result.status());
    assertArrayEquals(floats(1, -2, 0.5, 0, 0.25, -1), parameters(result.published().get(0)), 0f);
    Map<String, String> reasons = new TreeMap<>();
    result
        .audit()
        .forEach(
            a ->
                reasons.put(
                    Path.of(java.net.URI.create(a.getFile())).getFileName().toString(),
                    a.getStatus() + ": " + a.getReason()));
    assertEquals(
        Map.of(
            "site-a--a-valid.parquet", "accepted: null",
            "site-a--a-nan.parquet", "rejected: non-finite parameter NaN at index 0",
            "site-a--zz-broken.parquet", "rejected: " + TRUNCATED),
        reasons);
    assertEquals(1, result.history().get(0).getParticipants());
    assertEquals(2, result.history().get(0).getRejected());
  }

  @Test
  void uploadTemporariesAreIgnoredAndEveryOtherFileIsAudited() throws Exception {
    Path a = upload(update("site-a", 3, floats(1, 2, 3, 4), floats(5, 6)));
    Files.copy(a, a.resolveSibling(".site-b--x.parquet.1234.tmp"));
    Files.copy(a, a.resolveSibling(".site-b--x.parquet.1234.tmp.crc"));
    Files.copy(a, a.resolveSibling("_SUCCESS"));
    Files.copy(a, a.resolveSibling(".x--hidden.parquet"));
    Files.copy(a, a.resolveSibling("UPPER.PARQUET"));
    Files.copy(a, a.resolveSibling("site-c--notes.txt"));
    Files.createDirectory(a.resolveSibling("site-d--folder.parquet"));
    // a name Hadoop's paths cannot hold (':') and one that looks escaped: listed, read, audited
    Files.copy(a, a.resolveSibling("site-e--odd:name %41.parquet"));
    RoundResult result = job(store).execute();

    String hidden =
        "not an update file: a hidden name (starting with '.' or '_'), which readers skip; site"
            + " ids cannot start so";
    String suffix =
        "not an update file: the name does not end in '.parquet' (uploads are SITE--ID.parquet)";
    Map<String, String> reasons = new TreeMap<>();
    result
        .audit()
        .forEach(
            row ->
                reasons.put(
                    row.getFile().substring(row.getFile().lastIndexOf('/') + 1),
                    row.getStatus() + ": " + row.getReason()));
    assertEquals(
        Map.of(
            ".x--hidden.parquet",
            "rejected: " + hidden,
            "UPPER.PARQUET",
            "rejected: " + suffix,
            "_SUCCESS",
            "rejected: " + hidden,
            a.getFileName().toString(),
            "accepted: null",
            "site-c--notes.txt",
            "rejected: " + suffix,
            "site-d--folder.parquet",
            "rejected: not an update file: a folder (uploads are SITE--ID.parquet files)",
            "site-e--odd:name %41.parquet",
            "rejected: file name says site 'site-e', the update says site 'site-a'"),
        reasons,
        "every file but an upload's temporary files has an audit row");
    assertEquals(1, result.accepted());
    assertEquals(7, store.readAudit(0).size());
  }

  /**
   * Updates written with Snappy in pages of 256 bytes, as other writers may: read in place (pages
   * decompressed into one buffer a thread reuses from file to file), the round publishes bit for
   * bit the model it publishes from the same updates written plain.
   */
  @Test
  void snappyFilesInManyPagesAggregateAsPlainOnes() throws Exception {
    Map<String, float[]> published = new TreeMap<>();
    for (String form : List.of("plain", "snappy")) {
      Store forms = Store.open(dir.resolve(form).toUri().toString());
      new Federation(forms).dimension(64).classes(10).execute();
      Model start = forms.readModel(0, 0);
      java.util.Random random = new java.util.Random(7);
      for (int s = 0; s < 5; s++) {
        float[] weights = new float[640];
        float[] bias = new float[10];
        for (int i = 0; i < weights.length; i++) {
          weights[i] = (float) random.nextGaussian();
        }
        bias[s] = s + 0.5f;
        Update update = Fixtures.update(start, "site-" + s, 10L + 7 * s, weights, bias).build();
        if (form.equals("plain")) {
          forms.writeUpdate(update);
        } else {
          Path file =
              Path.of(forms.updatesDir(0).toUri())
                  .resolve(update.getSite() + "--" + update.getUpdateId() + ".parquet");
          Files.createDirectories(file.getParent());
          fedlake.core.store.ParquetFiles.writeLocal(
              file,
              Update.getClassSchema(),
              List.of(update),
              org.apache.parquet.hadoop.metadata.CompressionCodecName.SNAPPY,
              false,
              256);
        }
      }
      RoundResult result = job(forms).execute();
      assertEquals(5, result.accepted(), form + ": " + result.message());
      published.put(form, parameters(forms.readModel(1, 0)));
    }
    assertArrayEquals(published.get("plain"), published.get("snappy"));
  }

  // ---- clusters and registries ----------------------------------------------------------------

  @Test
  void aClusterWithoutUpdatesCarriesItsModelForward() throws Exception {
    Store clustered = Store.open(dir.resolve("clustered").toUri().toString());
    new Federation(clustered).dimension(2).classes(2).clusters(2).execute();
    Model zero = clustered.readModel(0, 0);
    Model one = clustered.readModel(0, 1);
    clustered.writeUpdate(
        Fixtures.update(zero, "site-a", 4, floats(1, 2, 3, 4), floats(5, 6)).build());

    RoundResult result = job(clustered).execute();

    assertEquals(2, result.published().size());
    Model carried = result.published().get(1);
    assertEquals(1, carried.getCluster());
    assertNull(carried.getStrategy(), "a carried model was made by no strategy");
    assertEquals(0, carried.getParticipants());
    assertEquals(one.getVersion(), carried.getParentVersion());
    assertArrayEquals(parameters(one), parameters(carried), 0f);
    assertArrayEquals(floats(1, 2, 3, 4, 5, 6), parameters(result.published().get(0)), 0f);
    List<RoundHistory> history = clustered.readHistory();
    assertEquals(2, history.size());
    assertEquals(
        "No update for cluster 1; carried its model forward as " + carried.getVersion(),
        history.get(1).getMessage());
    assertEquals(0, history.get(1).getParticipants());
    assertEquals(
        new TreeMap<>(Map.of(0, result.published().get(0).getVersion(), 1, carried.getVersion())),
        clustered.requireLatest().versions());
  }

  @Test
  void unregisteredSitesAreRejected() throws Exception {
    Store registered = Store.open(dir.resolve("registered").toUri().toString());
    new Federation(registered).dimension(2).classes(2).sites(List.of("site-a", "site-b")).execute();
    Model start = registered.readModel(0, 0);
    registered.writeUpdate(
        Fixtures.update(start, "site-a", 4, floats(1, 1, 1, 1), floats(0, 0)).build());
    registered.writeUpdate(
        Fixtures.update(start, "site-x", 4, floats(9, 9, 9, 9), floats(0, 0)).build());

    RoundResult result = job(registered).execute();

    assertArrayEquals(floats(1, 1, 1, 1, 0, 0), parameters(result.published().get(0)), 0f);
    assertEquals(
        "unknown site 'site-x': not registered in the federation",
        result.audit().stream()
            .filter(a -> "rejected".equals(a.getStatus()))
            .findFirst()
            .orElseThrow()
            .getReason());
  }

  @Test
  void aStoreWithoutAFederationNamesTheStore() {
    Store empty = Store.open(dir.resolve("empty").toUri().toString());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> job(empty).execute());
    assertEquals(
        "No model published yet in "
            + empty.root()
            + ": run 'fedlake init --store "
            + empty.root()
            + " ...' first",
        e.getMessage());
  }

  @Test
  void aModelFileThatDisagreesWithThePointerIsAnError() throws Exception {
    Model other = Fixtures.headModel(0, 2, 2, floats(1, 1, 1, 1), floats(0, 0));
    store.writeModel(other);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> job(store).execute());
    assertEquals(
        "Model pointer names "
            + base.getVersion()
            + " for cluster 0 but "
            + store.modelFile(0, 0)
            + " holds "
            + other.getVersion(),
        e.getMessage());
  }

  @Test
  void updateValuesSurviveTheParquetRoundTripBitForBit() throws Exception {
    float[] awkward = {Float.MIN_VALUE, -0f, 1e-38f, 9999.999f};
    upload(update("site-a", 1, awkward, floats(-1e-30, 0.1)));
    RoundResult result = job(store).execute();
    float[] expected = {Float.MIN_VALUE, -0f, 1e-38f, 9999.999f, (float) -1e-30, 0.1f};
    float[] actual = parameters(result.published().get(0));
    // one update: the mean is the update itself, except that ExactSum drops bits below 2^-64
    for (int i = 0; i < expected.length; i++) {
      float want = Math.abs(expected[i]) < 0x1p-64f ? 0f : expected[i];
      assertEquals(
          Float.floatToIntBits(want) & 0x7fffffff,
          Float.floatToIntBits(actual[i]) & 0x7fffffff,
          "parameter " + i);
    }
    assertEquals(FloatArrays.toArray(store.readModel(1, 0).getWeights())[3], 9999.999f, 0f);
  }
}
