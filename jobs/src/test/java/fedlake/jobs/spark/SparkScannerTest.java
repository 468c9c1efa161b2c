package fedlake.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.LocalScanner;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.round.UpdateReader;
import fedlake.core.round.UpdateScanner;
import fedlake.core.store.Store;
import fedlake.core.train.TrainSettings;
import fedlake.edge.EdgeTrain;
import fedlake.jobs.SparkTestBase;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SparkScanner against LocalScanner on the same round: real edge updates, a truncated file, a NaN,
 * a re-upload.
 */
class SparkScannerTest extends SparkTestBase {
  private static final int SITES = 9;
  private static final String TRUNCATED =
      "not a readable Parquet file: truncated or corrupt (no valid footer)";

  @TempDir static Path dir;
  private static Path template;

  /**
   * Examples of the updates that should count: site s trains on 5 x (3 + s) rows, site-0's
   * re-upload on 20. Rejected: site-0's first upload (15), the NaN copy of site-2's update (25),
   * the truncated file.
   */
  private static final long EXAMPLES = 5L * (3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11) - 15 + 20;

  @BeforeAll
  static void roundZeroWithUploads() throws Exception {
    template = dir.resolve("template");
    Store store = Store.open(template.toUri().toString());
    new Federation(store).dimension(16).classes(5).execute();
    GaussianClasses generator = new GaussianClasses(5, 16, 1.5, 3);
    long now = System.currentTimeMillis();
    for (int s = 0; s < SITES; s++) {
      edge(store, "site-" + s, generator.sample(3 + s, 100 + s, "site-" + s), s, now);
    }
    // the re-upload is a second later than the first one
    edge(store, "site-0", generator.sample(4, 999, "site-0-again"), 99, now + 1000);
    // a broken-off upload and an update holding a NaN
    Path updates = template.resolve("updates/round-000000");
    Path some;
    try (Stream<Path> files = Files.list(updates)) {
      some =
          files
              .filter(f -> f.getFileName().toString().startsWith("site-2--"))
              .findFirst()
              .orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(some);
    Files.write(
        updates.resolve("site-2--truncated.parquet"), Arrays.copyOf(bytes, bytes.length / 2));
    Update real = new UpdateReader(new Configuration()).read(some.toUri().toString());
    float[] weights = FloatArrays.toArray(real.getWeights());
    weights[17] = Float.NaN;
    store.writeUpdate(
        Update.newBuilder(real)
            .setSite("site-nan")
            .setUpdateId("nan")
            .setWeights(FloatArrays.asList(weights))
            .build());
  }

  private static void edge(Store store, String site, Dataset data, long seed, long createdMillis) {
    new EdgeTrain(store, site, data)
        .settings(TrainSettings.defaults(seed))
        .clock(() -> createdMillis)
        .execute();
  }

  private static Store copy(String name) {
    return Store.open(copyTree(template, dir.resolve(name)).toUri().toString());
  }

  private static RoundResult round(Store store, UpdateScanner scanner) {
    return new RoundJob(store).scanner(scanner).clock(() -> 5000L).execute();
  }

  private static int[] bits(Model model) {
    float[] parameters = Models.parameters(model);
    int[] bits = new int[parameters.length];
    for (int i = 0; i < bits.length; i++) {
      bits[i] = Float.floatToRawIntBits(parameters[i]);
    }
    return bits;
  }

  /** Audit as file name -> status and reason, independent of the store's location. */
  private static Map<String, String> audit(RoundResult result) {
    Map<String, String> rows = new TreeMap<>();
    for (UpdateAudit a : result.audit()) {
      String name = a.getFile().substring(a.getFile().lastIndexOf('/') + 1);
      String reason = a.getReason() == null ? "" : a.getReason().replaceAll("\\(file:[^)]*/", "(");
      rows.put(name, a.getStatus() + " " + reason);
    }
    return rows;
  }

  @Test
  void sparkGivesTheLocalModelBitForBitForEveryPartitionCount() {
    RoundResult local =
        round(copy("local"), new LocalScanner(Store.fileSystem("file:///", new Configuration())));
    assertEquals(RoundResult.Status.PUBLISHED, local.status(), local.message());
    RoundHistory expected = local.history().get(0);
    assertEquals(SITES, expected.getParticipants());
    assertEquals(3, expected.getRejected());
    assertEquals(EXAMPLES, expected.getTotalExamples());

    List<Integer> counts = new ArrayList<>(List.of(1, 2, 5, 12));
    counts.add(null); // the default
    for (Integer partitions : counts) {
      SparkScanner scanner = new SparkScanner(spark());
      if (partitions != null) {
        scanner.partitions(partitions);
      }
      RoundResult spark = round(copy("spark-" + partitions), scanner);
      String label = "partitions " + partitions;
      assertEquals(RoundResult.Status.PUBLISHED, spark.status(), label);
      Model model = spark.published().get(0);
      assertEquals(local.published().get(0).getVersion(), model.getVersion(), label);
      assertArrayEquals(bits(local.published().get(0)), bits(model), label);
      assertEquals(audit(local), audit(spark), label);
      RoundHistory h = spark.history().get(0);
      assertEquals(expected.getParticipants(), h.getParticipants(), label);
      assertEquals(expected.getRejected(), h.getRejected(), label);
      assertEquals(expected.getTotalExamples(), h.getTotalExamples(), label);
      assertEquals(expected.getParticipantSites(), h.getParticipantSites(), label);
      assertEquals(expected.getWeightedLocalLoss(), h.getWeightedLocalLoss(), label);
      assertEquals(expected.getModelChangeNorm(), h.getModelChangeNorm(), label);
    }
  }

  @Test
  void fileNameOrderDoesNotChangeTheModel() throws IOException {
    Model reference =
        round(copy("names-reference"), new SparkScanner(spark()).partitions(3)).published().get(0);
    Random random = new Random(5);
    for (int trial = 0; trial < 2; trial++) {
      Store store = copy("names-" + trial);
      Path updates = Path.of(store.updatesDir(0).toUri());
      List<Path> files;
      try (Stream<Path> list = Files.list(updates)) {
        files = new ArrayList<>(list.sorted().toList());
      }
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < files.size(); i++) {
        order.add(i);
      }
      Collections.shuffle(order, random);
      for (int i = 0; i < files.size(); i++) {
        // names of another form than SITE--ID (no site in the name) reorder the files across sites
        // and partitions
        String name = files.get(i).getFileName().toString();
        Files.move(
            files.get(i),
            updates.resolve(
                String.format("f%02d-%s", order.get(i), name.substring(name.indexOf("--") + 2))));
      }
      UpdateScanner scanner =
          trial == 0
              ? new LocalScanner(Store.fileSystem("file:///", new Configuration()))
              : new SparkScanner(spark()).partitions(2 + trial);
      RoundResult result = round(store, scanner);
      assertEquals(
          reference.getVersion(), result.published().get(0).getVersion(), "trial " + trial);
      assertArrayEquals(bits(reference), bits(result.published().get(0)), "trial " + trial);
      assertEquals(SITES, result.history().get(0).getParticipants());
      assertEquals(EXAMPLES, result.history().get(0).getTotalExamples());
    }
  }

  @Test
  void sparkSqlReadsTheHistoryAndAuditTables() {
    Store store = copy("sql");
    RoundResult first = round(store, new SparkScanner(spark()));
    // a second, smaller round: three sites train on the published model
    GaussianClasses generator = new GaussianClasses(5, 16, 1.5, 3);
    for (int s = 0; s < 3; s++) {
      edge(
          store,
          "site-" + s,
          generator.sample(2, 500 + s, "round-1"),
          200 + s,
          System.currentTimeMillis());
    }
    RoundResult second = round(store, new SparkScanner(spark()));
    assertEquals(RoundResult.Status.PUBLISHED, second.status(), second.message());

    String root = store.root().toString();
    org.apache.spark.sql.Dataset<Row> history = spark().read().parquet(root + "/history");
    history.createOrReplaceTempView("history");
    List<Row> rows =
        spark()
            .sql(
                "SELECT round, cluster, status, participants, rejected, totalExamples, weightedLocalLoss,"
                    + " publishedModelVersion, size(participantSites) FROM history ORDER BY round")
            .collectAsList();
    assertEquals(2, rows.size());
    assertEquals(
        List.of(
            0,
            0,
            "published",
            SITES,
            3,
            EXAMPLES,
            first.history().get(0).getWeightedLocalLoss(),
            first.published().get(0).getVersion(),
            SITES),
        rowValues(rows.get(0)));
    assertEquals(
        List.of(
            1,
            0,
            "published",
            3,
            0,
            30L,
            second.history().get(0).getWeightedLocalLoss(),
            second.published().get(0).getVersion(),
            3),
        rowValues(rows.get(1)));
    assertEquals(
        store.readHistory().get(1).getTotalMillis(),
        spark().sql("SELECT totalMillis FROM history WHERE round = 1").first().getLong(0));

    org.apache.spark.sql.Dataset<Row> audit = spark().read().parquet(root + "/audit");
    audit.createOrReplaceTempView("audit");
    List<Row> statuses =
        spark()
            .sql(
                "SELECT round, status, count(*), sum(coalesce(numExamples, 0)) FROM audit"
                    + " GROUP BY round, status ORDER BY round, status")
            .collectAsList();
    assertEquals(
        List.of(
            List.of(0, "accepted", 9L, EXAMPLES),
            List.of(0, "rejected", 3L, 15L + 25L),
            List.of(1, "accepted", 3L, 30L)),
        statuses.stream().map(SparkScannerTest::rowValues).toList());
    List<Row> rejected =
        spark()
            .sql("SELECT site, reason FROM audit WHERE status = 'rejected' ORDER BY file")
            .collectAsList();
    assertEquals(3, rejected.size());
    assertEquals(
        Arrays.asList("site-0", "site-2", "site-nan"), // site-2: from site-2--truncated.parquet
        rejected.stream().map(r -> r.getString(0)).toList());
    assertEquals(
        true,
        rejected
            .get(0)
            .getString(1)
            .startsWith("superseded: site site-0 uploaded again for this round ("),
        rejected.get(0).getString(1));
    assertEquals(TRUNCATED, rejected.get(1).getString(1));
    assertEquals("non-finite parameter NaN at index 17", rejected.get(2).getString(1));
    assertNull(
        spark()
            .sql("SELECT reason FROM audit WHERE round = 1 AND status = 'accepted' LIMIT 1")
            .first()
            .get(0));
  }

  private static List<Object> rowValues(Row row) {
    List<Object> values = new ArrayList<>();
    for (int i = 0; i < row.length(); i++) {
      values.add(row.get(i));
    }
    return values;
  }

  @Test
  void partitionsMustBePositive() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new SparkScanner(spark()).partitions(0));
    assertEquals("partitions must be at least 1, got 0", e.getMessage());
  }
}
