package fedlake.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.round.LocalScanner;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.round.RoundRules;
import fedlake.core.round.ScanResult;
import fedlake.core.round.UpdateFile;
import fedlake.core.round.UpdateSelection;
import fedlake.core.round.UpdateValidator;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.core.strategy.FedAvg;
import fedlake.core.strategy.Strategies;
import fedlake.core.strategy.Strategy;
import fedlake.core.strategy.StrategySettings;
import fedlake.core.train.TrainSettings;
import fedlake.edge.EdgeMain;
import fedlake.edge.EdgeTrain;
import fedlake.jobs.FedlakeMain;
import fedlake.jobs.S3ProxyServer;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The round cycle against a real S3-compatible server (s3proxy in its own JVM): init on
 * s3a://bucket/prefix, three sites train and upload, one corrupt object, the Spark round job
 * publishes the FedAvg of the three, the audit rejects the corrupt one, history reads back. Also
 * the command-line paths with the settings a user gives: --conf options and environment variables.
 */
@Timeout(
    value = 180,
    unit = TimeUnit.SECONDS) // about 7 s each on a quiet machine; generous for loaded CI hosts
class S3RoundTest {
  private static final int CLASSES = 4;
  private static final int DIMENSION = 16;

  @TempDir static Path dir;
  private static S3ProxyServer server;
  private static SparkSession spark;

  @BeforeAll
  static void start() throws Exception {
    server = S3ProxyServer.launch(dir.resolve("s3proxy")); // boots while Spark starts
    String endpoint = server.endpoint();
    // The way spark-submit users configure s3a: spark.hadoop.fs.s3a.* settings.
    SparkSession.Builder builder =
        SparkSession.builder()
            .appName("fedlake-s3-round-test")
            .master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2");
    hadoopSettings().forEach((key, value) -> builder.config("spark.hadoop." + key, value));
    spark = builder.getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    assertEquals(
        endpoint,
        spark.sparkContext().hadoopConfiguration().get(StoreConfig.ENDPOINT),
        "another test left a SparkSession running, so this one's s3a settings were not applied");
    server.awaitListening();
    // Only differs when the first port was taken and the server moved.
    spark.sparkContext().hadoopConfiguration().set(StoreConfig.ENDPOINT, server.endpoint());
  }

  @AfterAll
  static void stop() {
    try {
      if (spark != null) {
        spark.stop();
      }
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  /** What a user of MinIO or another S3-compatible server sets; see docs/s3.md. */
  private static Map<String, String> hadoopSettings() {
    return Map.of(
        StoreConfig.ENDPOINT,
        server.endpoint(),
        StoreConfig.PATH_STYLE_ACCESS,
        "true",
        StoreConfig.SSL_ENABLED,
        "false",
        StoreConfig.ACCESS_KEY,
        S3ProxyServer.ACCESS_KEY,
        StoreConfig.SECRET_KEY,
        S3ProxyServer.SECRET_KEY);
  }

  private static List<String> keyValues(Map<String, String> settings) {
    return settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
  }

  private static List<String> confOptions(Map<String, String> settings) {
    List<String> options = new ArrayList<>();
    keyValues(settings)
        .forEach(
            keyValue -> {
              options.add("--conf");
              options.add(keyValue);
            });
    return options;
  }

  private static String[] command(List<String> options, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(options);
    return all.toArray(String[]::new);
  }

  @Test
  void sparkRoundOverS3PublishesFedAvgOfTheValidUpdates() throws Exception {
    server.createBucket("fedlake-round");
    String uri = "s3a://fedlake-round/fed";
    Store store = Store.open(uri, spark.sparkContext().hadoopConfiguration());
    new Federation(store)
        .dimension(DIMENSION)
        .classes(CLASSES)
        .sites(List.of("site-a", "site-b", "site-c"))
        .execute();
    assertTrue(
        Files.isRegularFile(server.objectFile("fedlake-round", "fed/models/_LATEST")),
        "the model pointer is an object in the S3 server's storage");

    GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 0.8, 11);
    int[] perClass = {10, 20, 5};
    String[] sites = {"site-a", "site-b", "site-c"};
    List<EdgeTrain.Result> uploads = new ArrayList<>();
    for (int s = 0; s < sites.length; s++) {
      Dataset data = generator.sample(perClass[s], 100 + s, sites[s]);
      uploads.add(
          new EdgeTrain(store, sites[s], data)
              .settings(TrainSettings.defaults(s).withEpochs(3))
              .execute());
    }
    // A site whose upload broke off: the first 120 bytes of a real update, as its own object.
    org.apache.hadoop.fs.Path corrupt =
        new org.apache.hadoop.fs.Path(store.updatesDir(0), "site-a--broken-upload.parquet");
    try (InputStream in =
            store.fileSystem().open(new org.apache.hadoop.fs.Path(uploads.get(0).updateFile()));
        OutputStream out = store.fileSystem().create(corrupt, true)) {
      out.write(in.readNBytes(120));
    }
    assertEquals(4, store.listUpdates(0).size());

    RoundResult result = new RoundJob(store).scanner(new SparkScanner(spark)).execute();

    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    assertEquals(0, result.round());
    assertEquals(3, result.accepted());
    assertEquals(1, result.rejected());
    Model published = result.published().get(0);
    assertEquals(1, published.getRound());

    // Expected by hand: the mean of the three uploaded parameter vectors weighted by their
    // examples.
    List<Update> updates = new ArrayList<>();
    for (EdgeTrain.Result upload : uploads) {
      updates.add(
          store
              .<Update>readRecords(
                  new org.apache.hadoop.fs.Path(upload.updateFile()), Update.getClassSchema())
              .get(0));
    }
    assertEquals(List.of(40L, 80L, 20L), updates.stream().map(Update::getNumExamples).toList());
    float[] actual = Models.parameters(published);
    float[] byHand = new float[actual.length];
    for (int i = 0; i < byHand.length; i++) {
      double sum = 0;
      for (Update update : updates) {
        sum += (double) Models.parameters(update)[i] * update.getNumExamples();
      }
      byHand[i] = (float) (sum / 140);
    }
    assertArrayEquals(byHand, actual, 1e-6f);
    assertTrue(
        distance(Models.parameters(updates.get(0)), actual) > 1e-3,
        "the sites trained different heads");

    // The same files through core's single-JVM scanner give the same bits as the Spark partitions.
    Model base = store.readModel(0, 0);
    UpdateValidator validator =
        new UpdateValidator(0, Map.of(0, base), null, UpdateValidator.MAX_ABS_VALUE_DEFAULT);
    List<UpdateFile> files =
        store.listUpdates(0).stream()
            .map(s -> new UpdateFile(s.getPath().toString(), s.getLen()))
            .toList();
    Strategy fedAvg = Strategies.named(FedAvg.NAME);
    StrategySettings settings = StrategySettings.of(fedAvg, Map.of());
    ScanResult scan =
        UpdateSelection.run(
            files,
            new RoundRules(
                validator, fedAvg, settings, Map.of(), false, RoundJob.MAX_UPDATE_BYTES_DEFAULT),
            new LocalScanner(store.fileSystem()));
    assertArrayEquals(fedAvg.finish(base, scan.folds().get(0), settings).parameters(), actual);

    UpdateAudit rejected =
        result.audit().stream()
            .filter(a -> "rejected".equals(a.getStatus()))
            .findFirst()
            .orElseThrow();
    assertEquals(corrupt.toString(), rejected.getFile());
    assertEquals(120L, rejected.getFileBytes());
    assertEquals(
        "not a readable Parquet file: truncated or corrupt (no valid footer)",
        rejected.getReason());
    assertEquals("site-a", rejected.getSite(), "from the file name site-a--broken-upload.parquet");

    // What 'fedlake history' reads, from a store opened afresh with the user's --conf settings.
    Store reader =
        Store.open(uri, StoreConfig.empty().options(keyValues(hadoopSettings())).hadoop());
    assertEquals(1, reader.requireLatest().round());
    assertEquals(published.getVersion(), reader.requireLatest().version(0));
    assertArrayEquals(actual, Models.parameters(reader.readModel(1, 0)));
    List<RoundHistory> history = reader.readHistory();
    assertEquals(1, history.size());
    RoundHistory row = history.get(0);
    assertEquals(0, row.getRound());
    assertEquals("published", row.getStatus());
    assertEquals(3, row.getParticipants());
    assertEquals(1, row.getRejected());
    assertEquals(140L, row.getTotalExamples());
    assertEquals(List.of("site-a", "site-b", "site-c"), row.getParticipantSites());
    assertEquals(published.getVersion(), row.getPublishedModelVersion());
    assertEquals(4, reader.readAudit(0).size());
    assertTrue(
        Files.isRegularFile(
            server.objectFile("fedlake-round", "fed/history/round-000000.parquet")));

    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    int code =
        FedlakeMain.run(
            command(confOptions(hadoopSettings()), "history", "--store", uri, "--audit", "0"),
            new PrintStream(printed, true, StandardCharsets.UTF_8),
            new PrintStream(errors, true, StandardCharsets.UTF_8));
    String text = printed.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, errors.toString(StandardCharsets.UTF_8));
    assertTrue(text.contains(published.getVersion()), text);
    assertTrue(
        text.contains(
            String.format(
                "  %-8s %-12s %s  -- %s%n",
                "rejected",
                "site-a",
                corrupt,
                "not a readable Parquet file: truncated or corrupt (no valid footer)")),
        text);

    // Rerunning the finished round writes nothing.
    assertEquals(
        RoundResult.Status.ALREADY_DONE,
        new RoundJob(store).scanner(new SparkScanner(spark)).round(0).execute().status());
  }

  @Test
  void commandLinesReachS3WithConfOptionsAndEnvironmentVariables() throws Exception {
    server.createBucket("fedlake-cli");
    String uri = "s3a://fedlake-cli/federation";
    List<String> conf = confOptions(hadoopSettings());
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
    PrintStream err = new PrintStream(errors, true, StandardCharsets.UTF_8);
    assertEquals(
        0,
        FedlakeMain.run(
            command(conf, "init", "--store", uri, "--dim", "16", "--classes", "4"), out, err),
        errors.toString(StandardCharsets.UTF_8));

    Path data = dir.resolve("site-data.parquet");
    DatasetFiles.writeParquet(
        new GaussianClasses(CLASSES, DIMENSION, 0.8, 5).sample(6, 1, "cli"),
        new org.apache.hadoop.fs.Path(data.toUri()),
        new Configuration(),
        "row-");
    assertEquals(
        0,
        EdgeMain.run(
            command(
                conf,
                "train",
                "--store",
                uri,
                "--site",
                "site-conf",
                "--data",
                data.toString(),
                "--quiet"),
            out,
            err),
        errors.toString(StandardCharsets.UTF_8));

    // A fresh JVM, as a user runs the edge runner: credentials and endpoint from the environment
    // only.
    ProcessBuilder edge =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-cp",
                System.getProperty("java.class.path"),
                EdgeMain.class.getName(),
                "train",
                "--store",
                uri,
                "--site",
                "site-env",
                "--data",
                data.toString(),
                "--quiet")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("edge-env.log").toFile());
    edge.environment()
        .keySet()
        .removeIf(name -> name.startsWith("AWS_") || name.startsWith("FEDLAKE_"));
    edge.environment().put(StoreConfig.ACCESS_KEY_VARIABLE, S3ProxyServer.ACCESS_KEY);
    edge.environment().put(StoreConfig.SECRET_KEY_VARIABLE, S3ProxyServer.SECRET_KEY);
    edge.environment().put(StoreConfig.ENDPOINT_VARIABLE, server.endpoint());
    edge.environment().put(StoreConfig.REGION_VARIABLE, "us-east-1");
    Process process = edge.start();
    try {
      assertTrue(process.waitFor(120, TimeUnit.SECONDS), "edge runner did not finish within 120 s");
    } finally {
      process.destroyForcibly();
    }
    assertEquals(0, process.exitValue(), Files.readString(dir.resolve("edge-env.log")));

    Store store =
        Store.open(uri, StoreConfig.empty().options(keyValues(hadoopSettings())).hadoop());
    List<String> uploaded = new ArrayList<>();
    for (FileStatus file : store.listUpdates(0)) {
      Update update = store.<Update>readRecords(file.getPath(), Update.getClassSchema()).get(0);
      assertEquals(24L, update.getNumExamples());
      assertEquals(store.requireLatest().version(0), update.getBaseModelVersion());
      uploaded.add(update.getSite());
    }
    assertEquals(List.of("site-conf", "site-env"), uploaded);
  }

  @Test
  void refusedCredentialsAndMissingBucketsAreReportedInOneMessage() throws IOException {
    server.createBucket("fedlake-denied");
    Map<String, String> wrongSecret = new java.util.TreeMap<>(hadoopSettings());
    wrongSecret.put(StoreConfig.SECRET_KEY, "not-the-secret");
    String denied = edgeErrors(wrongSecret, "s3a://fedlake-denied/fed");
    assertTrue(
        denied.startsWith(
            "fedlake edge: Cannot read model pointer s3a://fedlake-denied/fed/models/_LATEST: "),
        denied);
    assertTrue(denied.contains("Status Code: 403"), denied);
    assertTrue(
        denied.contains(
            "\n  The store refused access: check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,"
                + " or --conf fs.s3a.access.key=... --conf fs.s3a.secret.key=...) and the bucket's permissions; see docs/s3.md"),
        denied);

    String missing = edgeErrors(hadoopSettings(), "s3a://fedlake-no-such-bucket/fed");
    assertTrue(
        missing.startsWith(
            "fedlake edge: Cannot read model pointer s3a://fedlake-no-such-bucket/fed/models/_LATEST: "),
        missing);
    assertTrue(
        missing.contains("The specified bucket does not exist (Service: S3, Status Code: 404"),
        missing);
    assertTrue(
        missing.contains(
            "\n  The bucket does not exist at the endpoint in use (fs.s3a.endpoint): create it, or check"
                + " the store URI and the endpoint; see docs/s3.md"),
        missing);

    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    int code =
        FedlakeMain.run(
            command(
                confOptions(hadoopSettings()),
                "init",
                "--store",
                "s3a://fedlake-no-bucket/fed",
                "--dim",
                "4",
                "--classes",
                "2"),
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(errors, true, StandardCharsets.UTF_8));
    String init = errors.toString(StandardCharsets.UTF_8);
    assertEquals(1, code, init);
    assertTrue(
        init.startsWith(
            "fedlake init: Cannot read model pointer s3a://fedlake-no-bucket/fed/models/_LATEST: "),
        init);
    assertTrue(init.contains("\n  The bucket does not exist at the endpoint in use"), init);
  }

  /**
   * Runs the edge CLI against {@code uri}; returns what it printed on stderr, after checking exit
   * code 1.
   */
  private static String edgeErrors(Map<String, String> settings, String uri) throws IOException {
    Path data = dir.resolve("small-data.parquet");
    if (!Files.exists(data)) {
      DatasetFiles.writeParquet(
          new GaussianClasses(CLASSES, DIMENSION, 0.8, 5).sample(2, 1, "small"),
          new org.apache.hadoop.fs.Path(data.toUri()),
          new Configuration(),
          "row-");
    }
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    int code =
        EdgeMain.run(
            command(
                confOptions(settings),
                "train",
                "--store",
                uri,
                "--site",
                "site-a",
                "--data",
                data.toString(),
                "--quiet"),
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(errors, true, StandardCharsets.UTF_8));
    String message = errors.toString(StandardCharsets.UTF_8);
    assertEquals(1, code, message);
    return message;
  }

  private static double distance(float[] a, float[] b) {
    double squares = 0;
    for (int i = 0; i < a.length; i++) {
      squares += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
    }
    return Math.sqrt(squares);
  }
}
