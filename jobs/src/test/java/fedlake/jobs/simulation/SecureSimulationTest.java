package fedlake.jobs.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.jobs.FedlakeMain;
import fedlake.jobs.SparkTestBase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * simulate --secure-aggregation on a small seeded federation (8 Gaussian classes, 4 sites, 3
 * rounds): the same accuracy as plain FedAvg round by round, and a dropped site per round with
 * --dropouts.
 */
class SecureSimulationTest extends SparkTestBase {
  @TempDir Path dir;

  private Path data() throws Exception {
    GaussianClasses generator = new GaussianClasses(8, 32, 1.8, 17);
    Path data = Files.createDirectories(dir.resolve("data"));
    for (String split : List.of("train", "test")) {
      Dataset d = generator.sample(split.equals("train") ? 30 : 25, split.length(), split);
      Npy.writeFloat32(data.resolve(split + "_X.npy"), d.features(), d.size(), 32);
      Npy.writeInt32(data.resolve(split + "_y.npy"), d.labels());
    }
    return data;
  }

  private JsonNode simulate(Path data, String name, String... extra) throws Exception {
    spark(); // the command picks up the running local[2] session (and stops it when done)
    Path report = dir.resolve(name + ".json");
    List<String> args =
        new ArrayList<>(
            List.of(
                "simulate",
                "--data",
                data.toString(),
                "--sites",
                "4",
                "--alpha",
                "0.5",
                "--rounds",
                "3",
                "--seed",
                "1",
                "--strategy",
                "fedavg",
                "--report-json",
                report.toString(),
                "--master",
                "local[2]"));
    args.addAll(List.of(extra));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        FedlakeMain.run(
            args.toArray(String[]::new),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, code, "stderr: " + err.toString(StandardCharsets.UTF_8));
    return new ObjectMapper().readTree(report.toFile()).get("rounds");
  }

  @Test
  void secureRoundsMatchPlainFedAvgAndDropoutsLeaveTheirSitesOut() throws Exception {
    Path data = data();
    JsonNode plain = simulate(data, "plain");
    JsonNode secure = simulate(data, "secure", "--secure-aggregation", "on");
    JsonNode dropping =
        simulate(data, "dropping", "--secure-aggregation", "on", "--dropouts", "0.25");
    for (int r = 1; r <= 3; r++) {
      assertEquals(4, secure.get(r).get("participants").asInt());
      assertEquals(
          plain.get(r).get("test_accuracy").asDouble(),
          secure.get(r).get("test_accuracy").asDouble(),
          1e-9,
          "round " + r);
      assertEquals(
          plain.get(r).get("test_loss").asDouble(),
          secure.get(r).get("test_loss").asDouble(),
          1e-5,
          "round " + r);
      assertEquals(3, dropping.get(r).get("participants").asInt(), "round " + r);
    }
    assertTrue(dropping.get(3).get("test_accuracy").asDouble() > 0.5, dropping.toString());
  }
}
