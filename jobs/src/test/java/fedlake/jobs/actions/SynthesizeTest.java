package fedlake.jobs.actions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.core.synth.ClassMoments;
import fedlake.core.synth.GaussianSource;
import fedlake.core.synth.LocalStatisticsPooler;
import fedlake.core.synth.SyntheticTable;
import fedlake.core.synth.TextEmbeddings;
import fedlake.core.synth.TextSource;
import fedlake.core.train.TrainSettings;
import fedlake.edge.EdgeTrain;
import fedlake.jobs.FedlakeMain;
import fedlake.jobs.SparkTestBase;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.SyntheticRow;
import fedlake.schema.UpdateAudit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The synthesize Spark job and the bootstrapping init: class balance checked by DuckDB, Spark equal
 * to local, bad input.
 */
class SynthesizeTest extends SparkTestBase {
  private static final int CLASSES = 5;
  private static final int DIMENSION = 8;

  @TempDir Path dir;
  private String storeUri;
  private Store store;
  private final GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 1.0, 31);
  private Path text;

  @BeforeEach
  void federation() throws IOException {
    storeUri = dir.resolve("store").toUri().toString();
    store = Store.open(storeUri);
    new Federation(store).dimension(DIMENSION).classes(CLASSES).execute();
    text = dir.resolve("text.npy");
    Npy.writeFloat32(text, generator.centres(), CLASSES, DIMENSION);
  }

  private record Run(int code, String out, String err) {}

  private static Run fedlake(String... args) {
    spark(); // the command picks up the running local[2] session (and stops it when done)
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        FedlakeMain.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** classId -> rows, by DuckDB over the Parquet file. */
  private static Map<Integer, Long> rowsPerClass(Path file) throws Exception {
    Map<Integer, Long> counts = new java.util.TreeMap<>();
    try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
        Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery(
                "SELECT classId, count(*) AS n FROM read_parquet('"
                    + file
                    + "') GROUP BY classId ORDER BY classId")) {
      while (rows.next()) {
        counts.put(rows.getInt("classId"), rows.getLong("n"));
      }
    }
    return counts;
  }

  @Test
  void textTableHasExactlyMRowsPerClass() throws Exception {
    Run run =
        fedlake(
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "text",
            "--text",
            text.toString(),
            "--per-class",
            "7",
            "--seed",
            "4",
            "--noise",
            "0.3",
            "--name",
            "from-text",
            "--master",
            "local[2]");
    assertEquals(0, run.code(), run.err());
    Path file = dir.resolve("store/synthetic/from-text.parquet");
    assertTrue(
        run.out()
            .startsWith(
                "Wrote "
                    + store.path("synthetic/from-text.parquet")
                    + ": 35 rows, 7 per class for 5 of 5 classes, "
                    + "source text, seed 4"),
        run.out());
    assertEquals(Map.of(0, 7L, 1, 7L, 2, 7L, 3, 7L, 4, 7L), rowsPerClass(file));

    // Spark tasks write what this JVM generates for the same seed
    SyntheticTable.Table table =
        SyntheticTable.read(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration());
    List<SyntheticRow> local =
        SyntheticTable.generate(
            new TextSource(TextEmbeddings.read(text.toString(), new Configuration()), 0.3),
            7,
            4,
            SyntheticTable.MissingClasses.FAIL);
    List<SyntheticRow> written =
        ParquetFiles.read(
            new org.apache.hadoop.fs.Path(file.toUri()),
            new Configuration(),
            SyntheticRow.getClassSchema());
    assertEquals(local, written);
    assertEquals("0.3", table.provenance().getParameters().get("noise"));
    assertEquals(text.toString(), table.provenance().getParameters().get("text"));
  }

  @Test
  void siteStatisticsOfARoundArePooledAndSampledInSparkAsLocally() throws Exception {
    Dataset train = generator.sample(12, 32, "train");
    for (int s = 0; s < 3; s++) {
      int site = s;
      int[] rows =
          java.util.stream.IntStream.range(0, train.size()).filter(r -> r % 3 == site).toArray();
      new EdgeTrain(store, "site-" + s, train.select(rows))
          .settings(TrainSettings.defaults(s))
          .stateDir(dir.resolve("state"))
          .siteStatistics(fedlake.core.synth.SiteStatistics.of(ClassMoments.Spread.COVARIANCE))
          .execute();
    }
    new RoundJob(store).execute();
    Synthesize.Result result =
        new Synthesize(spark(), store)
            .statisticsOfRound(0)
            .perClass(6)
            .seed(2)
            .name("stats")
            .execute();
    assertEquals(30, result.rows());
    Path file = dir.resolve("store/synthetic/stats.parquet");
    assertEquals(Map.of(0, 6L, 1, 6L, 2, 6L, 3, 6L, 4, 6L), rowsPerClass(file));
    assertEquals("site-stats", result.provenance().getSource());
    assertEquals("0", result.provenance().getParameters().get("round"));
    assertEquals("3", result.provenance().getParameters().get("updates-with-statistics"));
    assertEquals("full", result.provenance().getParameters().get("covariance"));
    assertEquals(
        Integer.toString(train.size()), result.provenance().getParameters().get("sites-examples"));

    List<String> accepted = store.readAudit(0).stream().map(UpdateAudit::getFile).sorted().toList();
    GaussianSource local =
        new GaussianSource(
            CLASSES,
            DIMENSION,
            new LocalStatisticsPooler(new Configuration())
                .pool(accepted, CLASSES, DIMENSION)
                .result(),
            0,
            Map.of());
    List<SyntheticRow> expected =
        SyntheticTable.generate(local, 6, 2, SyntheticTable.MissingClasses.FAIL);
    assertEquals(
        expected,
        ParquetFiles.read(
            new org.apache.hadoop.fs.Path(file.toUri()),
            new Configuration(),
            SyntheticRow.getClassSchema()));
  }

  @Test
  void badInputIsAClearErrorAndNothingIsWritten() throws IOException {
    Path wide = dir.resolve("wide.npy");
    Npy.writeFloat32(wide, new GaussianClasses(CLASSES, 6, 1.0, 1).centres(), CLASSES, 6);
    Run dimension =
        fedlake(
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "text",
            "--text",
            wide.toString(),
            "--master",
            "local[2]");
    assertEquals(2, dimension.code());
    assertEquals(
        "fedlake synthesize: "
            + wide
            + ": text embeddings have dimension 6, the federation's embeddings have 8\n",
        dimension.err());
    Path six = dir.resolve("six.npy");
    Npy.writeFloat32(six, new GaussianClasses(6, DIMENSION, 1.0, 2).centres(), 6, DIMENSION);
    Run classes =
        fedlake(
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "text",
            "--text",
            six.toString(),
            "--master",
            "local[2]");
    assertEquals(2, classes.code());
    assertEquals(
        "fedlake synthesize: " + six + ": text embeddings hold 6 classes, the federation has 5\n",
        classes.err());

    ClassStatistics ok =
        ClassMoments.of(generator.sample(3, 1, "s"), CLASSES, ClassMoments.Spread.VARIANCE)
            .get(1)
            .toAvro();
    Path negative = dir.resolve("negative.parquet");
    ParquetFiles.write(
        new org.apache.hadoop.fs.Path(negative.toUri()),
        new Configuration(),
        ClassStatistics.getClassSchema(),
        List.of(ok, ClassStatistics.newBuilder(ok).setCount(-2L).build()));
    Run counts =
        fedlake(
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "site-stats",
            "--stats",
            negative.toString(),
            "--master",
            "local[2]");
    assertEquals(2, counts.code());
    assertEquals(
        "fedlake synthesize: "
            + negative
            + ": row 1: class statistics for class 1 have count -2 (must be positive)\n",
        counts.err());
    float[] mean = FloatArrays.toArray(ok.getMean());
    mean[3] = Float.POSITIVE_INFINITY;
    Path infinite = dir.resolve("infinite.parquet");
    ParquetFiles.write(
        new org.apache.hadoop.fs.Path(infinite.toUri()),
        new Configuration(),
        ClassStatistics.getClassSchema(),
        List.of(ClassStatistics.newBuilder(ok).setMean(FloatArrays.asList(mean)).build()));
    Run nonFinite =
        fedlake(
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "site-stats",
            "--stats",
            infinite.toString(),
            "--master",
            "local[2]");
    assertEquals(
        "fedlake synthesize: "
            + infinite
            + ": row 0: class statistics for class 1 hold a non-finite value Infinity\n",
        nonFinite.err());

    Run missing =
        fedlake(
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "site-stats",
            "--stats",
            negative.toString().replace("negative", "x"),
            "--master",
            "local[2]");
    assertEquals(2, missing.code());
    Run notAggregated =
        fedlake(
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "site-stats",
            "--round",
            "0",
            "--master",
            "local[2]");
    assertEquals(
        "fedlake synthesize: synthesize: round 0 of "
            + store.root()
            + " has not been aggregated yet (no round-000000.parquet); "
            + "run 'fedlake round' first\n",
        notAggregated.err());
    Run images =
        fedlake("synthesize", "--store", storeUri, "--source", "images", "--master", "local[2]");
    assertEquals(
        "fedlake synthesize: synthesize: missing required option --images\n", images.err());

    assertFalse(Files.exists(dir.resolve("store/synthetic")), "nothing was written");
    assertEquals(0, store.requireLatest().round(), "the federation is untouched");

    Run first =
        fedlake(
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "text",
            "--text",
            text.toString(),
            "--name",
            "t",
            "--per-class",
            "2",
            "--master",
            "local[2]");
    assertEquals(0, first.code(), first.err());
    byte[] before = Files.readAllBytes(dir.resolve("store/synthetic/t.parquet"));
    Run again =
        fedlake(
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "text",
            "--text",
            text.toString(),
            "--name",
            "t",
            "--per-class",
            "3",
            "--master",
            "local[2]");
    assertEquals(2, again.code());
    assertEquals(
        "fedlake synthesize: synthesize: "
            + store.path("synthetic/t.parquet")
            + " exists already (tables are never replaced; "
            + "choose another --name)\n",
        again.err());
    assertArrayEquals(before, Files.readAllBytes(dir.resolve("store/synthetic/t.parquet")));
  }

  @Test
  void existsOkKeepsTheSameTableAndRefusesAnother() throws Exception {
    String[] args = {
      "synthesize",
      "--store",
      storeUri,
      "--source",
      "text",
      "--text",
      text.toString(),
      "--name",
      "kept",
      "--per-class",
      "2",
      "--seed",
      "5",
      "--master",
      "local[2]",
      "--exists-ok"
    };
    Run first = fedlake(args);
    assertEquals(0, first.code(), first.err());
    assertTrue(first.out().startsWith("Wrote "), first.out());
    Path file = dir.resolve("store/synthetic/kept.parquet");
    byte[] before = Files.readAllBytes(file);

    Run again = fedlake(args); // a retried task
    assertEquals(0, again.code(), again.err());
    assertTrue(
        again.out().startsWith("Kept the existing table " + store.path("synthetic/kept.parquet")),
        again.out());
    assertArrayEquals(before, Files.readAllBytes(file));

    String[] otherSeed = args.clone();
    assertEquals("--seed", otherSeed[11]);
    otherSeed[12] = "6";
    Run other = fedlake(otherSeed);
    assertEquals(2, other.code());
    assertTrue(
        other
            .err()
            .startsWith(
                "fedlake synthesize: synthesize: "
                    + store.path("synthetic/kept.parquet")
                    + " exists already with other settings (source text, per-class 2, seed 5, "),
        other.err());
    assertArrayEquals(before, Files.readAllBytes(file));
  }

  @Test
  void initBootstrapsFromTextOrFromATable() throws Exception {
    String zeroShot = dir.resolve("zero-shot").toUri().toString();
    Run wrong =
        fedlake(
            "init",
            "--store",
            zeroShot,
            "--bootstrap",
            "zero-shot",
            "--text",
            text.toString(),
            "--dim",
            "16");
    assertEquals(2, wrong.code());
    assertEquals(
        "fedlake init: "
            + text
            + ": text embeddings have dimension 8, the federation's embeddings have 16\n",
        wrong.err());
    assertTrue(Store.open(zeroShot).latest().isEmpty(), "no model was published");

    Run init =
        fedlake("init", "--store", zeroShot, "--bootstrap", "zero-shot", "--text", text.toString());
    assertEquals(0, init.code(), init.err());
    Model model = Store.open(zeroShot).readModel(0, 0);
    assertEquals("zero-shot", model.getInitialization());
    float[] expected = TextEmbeddings.read(text.toString(), new Configuration()).values().clone();
    for (int i = 0; i < expected.length; i++) {
      expected[i] *= 10f; // logits = 10 * W x = 100 * cosine
    }
    assertArrayEquals(expected, FloatArrays.toArray(model.getWeights()));

    assertEquals(
        0,
        fedlake(
                "synthesize",
                "--store",
                storeUri,
                "--source",
                "text",
                "--text",
                text.toString(),
                "--name",
                "boot",
                "--per-class",
                "20",
                "--master",
                "local[2]")
            .code());
    String synthetic = dir.resolve("synthetic").toUri().toString();
    Run trained =
        fedlake(
            "init",
            "--store",
            synthetic,
            "--bootstrap",
            "synthetic",
            "--synthetic",
            dir.resolve("store/synthetic/boot.parquet").toString(),
            "--seed",
            "3");
    assertEquals(0, trained.code(), trained.err());
    Model head = Store.open(synthetic).readModel(0, 0);
    assertEquals("synthetic", head.getInitialization());
    Dataset test = generator.sample(30, 77, "test");
    double nearestCentre = Models.head(model).evaluate(test).accuracy();
    double accuracy = Models.head(head).evaluate(test).accuracy();
    assertTrue(
        accuracy >= nearestCentre - 0.05,
        "synthetic head " + accuracy + ", zero-shot (nearest centre) " + nearestCentre);
  }
}
