package fedlake.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code simulate --model cache} on a small seeded federation: 8 Gaussian classes, 4 sites, 3 rounds. */
class SimulateCacheTest extends SparkTestBase {
  private static final int CLASSES = 8;
  private static final int DIMENSION = 32;

  @TempDir
  Path dir;

  private static void write(Path folder, String prefix, Dataset data) throws IOException {
    Npy.writeFloat32(folder.resolve(prefix + "_X.npy"), data.features(), data.size(), data.dimension());
    Npy.writeInt32(folder.resolve(prefix + "_y.npy"), data.labels());
  }

  @Test
  void cacheFromPooledStatisticsStartsFarAboveChanceAndTrains() throws IOException {
    GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 1.8, 17);
    Dataset train = generator.sample(30, 18, "train");
    Dataset test = generator.sample(25, 19, "test");
    Path data = Files.createDirectories(dir.resolve("data"));
    write(data, "train", train);
    write(data, "test", test);
    double nearestCentre = new Head(DIMENSION, CLASSES, 10f, generator.centres(), new float[CLASSES]).evaluate(test).accuracy();
    Path report = dir.resolve("simulate.json");
    String store = dir.resolve("store").toUri().toString();
    spark();

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = FedlakeMain.run(new String[] {"simulate", "--data", data.toString(), "--sites", "4", "--alpha", "0.5",
        "--rounds", "3", "--seed", "1", "--store", store, "--report-json", report.toString(), "--master", "local[2]",
        "--model", "cache", "--synthetic-per-class", "4"},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, "stderr: " + err.toString(StandardCharsets.UTF_8) + "\nstdout: " + printed);
    assertTrue(printed.contains("cache model: 32 synthetic keys (4 per class, from per-class statistics pooled over 4 sites), alpha "),
        printed);

    Store written = Store.open(store);
    Model initial = written.readModel(0, 0);
    assertEquals(Models.CACHE, initial.getKind());
    assertEquals("synthetic", initial.getStrategy());
    assertEquals(32, initial.getCacheLabels().size());
    assertEquals(32 * DIMENSION, initial.getCacheKeys().size());
    Model last = written.readModel(3, 0);
    assertEquals(Models.CACHE, last.getKind());
    assertEquals("scaffold", last.getStrategy());

    JsonNode rounds = new ObjectMapper().readTree(report.toFile()).get("rounds");
    double start = rounds.get(0).get("test_accuracy").asDouble();
    double end = rounds.get(3).get("test_accuracy").asDouble();
    String figures = String.format(Locale.ROOT, "cache test accuracy %.4f at round 0, %.4f after 3 rounds (nearest class centre %.4f)",
        start, end, nearestCentre);
    // measured: 0.7600 at round 0, 0.9000 after 3 rounds (nearest class centre 0.9200). The synthetic keys are as
    // noisy as real rows of this low-dimensional data, so the round-0 cache is below the nearest-centre rule but
    // far above chance (1/8); fine-tuning the keys closes part of the gap.
    assertTrue(start >= 0.6, figures);
    assertTrue(end > start, figures);
    assertTrue(end >= nearestCentre - 0.15, figures);
    for (int r = 1; r <= 3; r++) {
      assertEquals(4, rounds.get(r).get("participants").asInt(), "round " + r);
      assertEquals(0, rounds.get(r).get("rejected").asInt(), "round " + r);
    }
    System.out.println(figures);
  }
}
