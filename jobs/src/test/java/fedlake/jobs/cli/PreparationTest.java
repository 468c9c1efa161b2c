package fedlake.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.core.model.Head;
import fedlake.core.store.Store;
import fedlake.jobs.FedlakeMain;
import fedlake.jobs.SparkTestBase;
import fedlake.schema.RoundHistory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * simulate with --bootstrap, --site-stats and --calibrate on a small seeded data set whose "text"
 * is the class centres.
 */
class PreparationTest extends SparkTestBase {
  private static final int CLASSES = 6;
  private static final int DIMENSION = 16;

  @TempDir Path dir;
  private Path data;
  private Path text;
  private final GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 1.5, 41);
  private Dataset test;

  @BeforeEach
  void files() throws IOException {
    data = Files.createDirectories(dir.resolve("data"));
    Dataset train = generator.sample(25, 42, "train");
    test = generator.sample(30, 43, "test");
    Npy.writeFloat32(data.resolve("train_X.npy"), train.features(), train.size(), DIMENSION);
    Npy.writeInt32(data.resolve("train_y.npy"), train.labels());
    Npy.writeFloat32(data.resolve("test_X.npy"), test.features(), test.size(), DIMENSION);
    Npy.writeInt32(data.resolve("test_y.npy"), test.labels());
    text = dir.resolve("text.npy");
    Npy.writeFloat32(text, generator.centres(), CLASSES, DIMENSION);
  }

  private record Run(int code, String out, String err) {}

  private static Run simulate(String... args) {
    spark();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] all =
        java.util.stream.Stream.concat(
                java.util.stream.Stream.of("simulate", "--master", "local[2]"),
                java.util.Arrays.stream(args))
            .toArray(String[]::new);
    int code =
        FedlakeMain.run(
            all,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void zeroShotBootstrapThenCalibratedRounds() throws IOException {
    Path report = dir.resolve("report.json");
    String store = dir.resolve("store").toUri().toString();
    Run run =
        simulate(
            "--data",
            data.toString(),
            "--sites",
            "3",
            "--alpha",
            "0.2",
            "--rounds",
            "2",
            "--seed",
            "5",
            "--store",
            store,
            "--bootstrap",
            "zero-shot",
            "--text",
            text.toString(),
            "--site-stats",
            "--calibrate",
            "--report-json",
            report.toString());
    assertEquals(0, run.code(), run.err() + run.out());
    double nearestCentre =
        new Head(DIMENSION, CLASSES, 10f, generator.centres(), new float[CLASSES])
            .evaluate(test)
            .accuracy();
    JsonNode rounds = new ObjectMapper().readTree(report.toFile()).get("rounds");
    assertEquals(
        nearestCentre,
        rounds.get(0).get("test_accuracy").asDouble(),
        1e-6,
        "round 0 is cosine classification by the text");
    assertTrue(run.out().contains("bootstrap: zero-shot head from " + text), run.out());

    List<RoundHistory> history = Store.open(store).readHistory();
    assertEquals(2, history.size());
    for (RoundHistory h : history) {
      assertTrue(h.getCalibrated(), h.getCalibrationMessage());
      assertTrue(
          h.getCalibrationMessage()
              .startsWith(
                  "CCVR: re-fitted the head from the aggregate on 100 virtual embeddings per class of "
                      + CLASSES
                      + " classes (full covariance pooled from 3 site(s): "
                      + (h.getRound() == 0
                          ? "3 sent with the update, 0 held by the store), 3 epoch(s) (" // round 0
                          // sends
                          // them;
                          // later
                          // rounds
                          // the
                          // fingerprint only
                          : "0 sent with the update, 3 held by the store), 3 epoch(s) (Gaussians reused from the cache")),
          h.getCalibrationMessage());
      // simulate probes with its test rows: the figure after calibration is the published model's
      // test accuracy
      assertEquals(
          rounds.get(h.getRound() + 1).get("test_accuracy").asDouble(), h.getProbeAccuracy(), 1e-6);
    }
    assertEquals("zero-shot", Store.open(store).readModel(0, 0).getInitialization());
  }

  @Test
  void syntheticBootstrapWritesItsTableIntoTheStore() {
    String store = dir.resolve("store").toUri().toString();
    Run run =
        simulate(
            "--data",
            data.toString(),
            "--sites",
            "2",
            "--rounds",
            "0",
            "--store",
            store,
            "--bootstrap",
            "synthetic",
            "--text",
            text.toString(),
            "--synthetic-per-class",
            "30",
            "--seed",
            "2");
    assertEquals(0, run.code(), run.err());
    assertTrue(Files.exists(dir.resolve("store/synthetic/bootstrap-text-m30-seed2.parquet")));
    assertEquals("synthetic", Store.open(store).readModel(0, 0).getInitialization());
    double accuracy =
        Double.parseDouble(
            run.out()
                .lines()
                .reduce((a, b) -> b)
                .orElseThrow()
                .replace("final test accuracy ", ""));
    assertTrue(accuracy > 0.5, "a head trained around the class texts classifies: " + accuracy);
  }

  @Test
  void badOptionsAndBadTextFailBeforeAnythingIsWritten() throws IOException {
    String store = dir.resolve("store").toUri().toString();
    Run noStats =
        simulate("--data", data.toString(), "--rounds", "1", "--calibrate", "--store", store);
    assertEquals(2, noStats.code());
    assertEquals(
        "fedlake simulate: simulate: --calibrate needs --site-stats (calibration samples from the statistics sites report)\n",
        noStats.err());
    Run noText =
        simulate(
            "--data",
            data.toString(),
            "--rounds",
            "0",
            "--bootstrap",
            "zero-shot",
            "--store",
            store);
    assertEquals(
        "fedlake simulate: simulate: --bootstrap zero-shot needs --text FILE (class text embeddings)\n",
        noText.err());
    Path few = dir.resolve("few.npy");
    Npy.writeFloat32(
        few, java.util.Arrays.copyOf(generator.centres(), 4 * DIMENSION), 4, DIMENSION);
    Run classes =
        simulate(
            "--data",
            data.toString(),
            "--rounds",
            "0",
            "--bootstrap",
            "zero-shot",
            "--text",
            few.toString(),
            "--store",
            store);
    assertEquals(2, classes.code());
    assertEquals(
        "fedlake simulate: " + few + ": text embeddings hold 4 classes, the federation has 6\n",
        classes.err());
    assertFalse(Store.open(store).latest().isPresent(), "no model was published");
  }
}
