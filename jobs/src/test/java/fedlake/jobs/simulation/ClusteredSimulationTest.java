package fedlake.jobs.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import fedlake.core.cluster.ClusterStore;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.core.store.Store;
import fedlake.jobs.FedlakeMain;
import fedlake.jobs.SparkTestBase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code simulate --data A,B --label-space shared}: two seeded datasets whose class ids mean
 * different things. Clustering must find the two groups of sites and beat one global model on
 * per-site accuracy.
 */
class ClusteredSimulationTest extends SparkTestBase {
  private static final int CLASSES = 6;
  private static final int DIMENSION = 24;

  @TempDir Path dir;

  /**
   * The same classes in both datasets, but dataset b names class c as c + 1 (mod 6): one model
   * cannot serve both.
   */
  private Path dataset(String name, int shift, long seed) throws IOException {
    GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 1.0, 1);
    Path folder = Files.createDirectories(dir.resolve(name));
    for (String split : List.of("train", "test")) {
      Dataset data =
          generator.sample(split.equals("train") ? 24 : 20, seed * 10 + split.length(), split);
      int[] labels = data.labels().clone();
      for (int i = 0; i < labels.length; i++) {
        labels[i] = (labels[i] + shift) % CLASSES;
      }
      Npy.writeFloat32(
          folder.resolve(split + "_X.npy"), data.features(), data.size(), data.dimension());
      Npy.writeInt32(folder.resolve(split + "_y.npy"), labels);
    }
    return folder;
  }

  @Test
  void clusteringSeparatesDatasetsWhoseLabelsMeanDifferentThings() throws IOException {
    Path a = dataset("a", 0, 1);
    Path b = dataset("b", 1, 2);
    Path report = dir.resolve("report.json");
    String store = dir.resolve("store").toUri().toString();
    spark();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        FedlakeMain.run(
            new String[] {
              "simulate",
              "--data",
              a + "," + b,
              "--label-space",
              "shared",
              "--sites",
              "6",
              "--rounds",
              "3",
              "--clusters",
              "auto",
              "--k-range",
              "2..3",
              "--seed",
              "1",
              "--store",
              store,
              "--report-json",
              report.toString(),
              "--plot",
              dir.resolve("clusters.png").toString(),
              "--master",
              "local[2]"
            },
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(
        0, code, "stderr: " + err.toString(StandardCharsets.UTF_8) + "\nstdout: " + printed);

    JsonNode json = new ObjectMapper().readTree(report.toFile());
    java.awt.image.BufferedImage chart =
        javax.imageio.ImageIO.read(dir.resolve("clusters.png").toFile());
    assertEquals(800, chart.getWidth(), "a PNG chart was written");
    assertEquals("shared", json.get("label_space").asText());
    assertEquals(
        CLASSES, json.get("classes").asInt(), "shared label space: ids 0..5 in both datasets");
    assertEquals(3, json.get("rounds").size());
    double ari = json.get("adjusted_rand_index").asDouble();
    double clustered = json.get("mean_site_accuracy").asDouble();
    double global = json.get("global_mean_site_accuracy").asDouble();
    String figures =
        "ARI "
            + ari
            + ", per-site accuracy "
            + clustered
            + " clustered vs "
            + global
            + " global\n"
            + printed;
    assertEquals(1.0, ari, 1e-12, figures);
    assertTrue(clustered >= global + 0.3, figures);
    assertTrue(clustered >= 0.8, figures);
    // centralised: one head per dataset solves each; one head for both cannot tell a permuted label
    // from its original
    assertTrue(json.get("centralised_per_dataset_site_accuracy").asDouble() >= 0.9, figures);
    assertTrue(json.get("centralised_one_head_site_accuracy").asDouble() <= 0.7, figures);
    for (JsonNode site : json.get("site_reports")) {
      int index = Integer.parseInt(site.get("site").asText().substring("site-".length()));
      assertEquals(index % 2 == 0 ? "a" : "b", site.get("dataset").asText());
    }
    assertTrue(
        printed
            .lines()
            .reduce((x, y) -> y)
            .orElseThrow()
            .startsWith("final: adjusted Rand index 1.0000"),
        printed);

    Store written = Store.open(store);
    assertEquals(2, written.requireLatest().versions().size(), "one model per cluster");
    assertEquals(List.of(0, 1, 2), ClusterStore.assignmentRounds(written));
    assertEquals(
        3,
        Store.open(store + "-global").requireLatest().round(),
        "the baseline ran in its own store");
    // the profiles are one Parquet table partitioned by round, readable as a whole
    List<org.apache.spark.sql.Row> perRound =
        spark()
            .read()
            .parquet(store + "/profiles")
            .groupBy("round")
            .count()
            .orderBy("round")
            .collectAsList();
    assertEquals("[[0,6], [1,6], [2,6]]", perRound.toString());
    System.out.println(figures);
  }
}
