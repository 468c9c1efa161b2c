package fedlake.jobs.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.store.Store;
import fedlake.jobs.FedlakeMain;
import fedlake.jobs.SparkTestBase;
import fedlake.schema.Model;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulate command on a small seeded federation: 8 Gaussian classes, 4 sites, 3 rounds, with a
 * head or a cache model.
 */
class SimulateTest extends SparkTestBase {
  private static final int CLASSES = 8;
  private static final int DIMENSION = 32;

  @TempDir Path dir;

  private static void write(Path folder, String prefix, Dataset data) throws IOException {
    Npy.writeFloat32(
        folder.resolve(prefix + "_X.npy"), data.features(), data.size(), data.dimension());
    Npy.writeInt32(folder.resolve(prefix + "_y.npy"), data.labels());
  }

  /**
   * The seeded data written as train/test .npy files, and what the nearest-class-centre rule scores
   * on the test rows.
   */
  private record Seeded(Path data, Dataset train, double nearestCentre) {}

  private Seeded seeded() throws IOException {
    GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 1.8, 17);
    Dataset train = generator.sample(30, 18, "train");
    Dataset test = generator.sample(25, 19, "test");
    Path data = Files.createDirectories(dir.resolve("data"));
    write(data, "train", train);
    write(data, "test", test);
    return new Seeded(
        data,
        train,
        new Head(DIMENSION, CLASSES, 10f, generator.centres(), new float[CLASSES])
            .evaluate(test)
            .accuracy());
  }

  /**
   * Runs simulate on the seeded data (4 sites, 3 rounds) plus {@code extra}, in {@code store}
   * (null: a temporary one); returns what it printed.
   */
  private String simulate(Seeded seeded, String store, Path report, String... extra) {
    spark(); // the command picks up the running local[2] session (and stops it when done)
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "simulate",
                "--data",
                seeded.data().toString(),
                "--sites",
                "4",
                "--alpha",
                "0.5",
                "--rounds",
                "3",
                "--seed",
                "1",
                "--report-json",
                report.toString(),
                "--master",
                "local[2]"));
    if (store != null) {
      args.addAll(List.of("--store", store));
    }
    args.addAll(List.of(extra));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        FedlakeMain.run(
            args.toArray(String[]::new),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(
        0, code, "stderr: " + err.toString(StandardCharsets.UTF_8) + "\nstdout: " + printed);
    return printed;
  }

  @Test
  void smallSeededFederationLearnsAndReportsEveryRound() throws IOException {
    Seeded seeded = seeded();
    Dataset train = seeded.train();
    double nearestCentre = seeded.nearestCentre();
    Path report = dir.resolve("report/simulate.json");
    String store = dir.resolve("store").toUri().toString();
    String printed = simulate(seeded, store, report);

    JsonNode json = new ObjectMapper().readTree(report.toFile());
    JsonNode rounds = json.get("rounds");
    assertEquals(
        4, rounds.size(), "round 0 (the initial model) and three aggregated rounds: " + json);
    assertEquals(
        1.0 / CLASSES,
        rounds.get(0).get("test_accuracy").asDouble(),
        1e-6,
        "a zero head ties, argmax picks class 0");
    assertEquals(Math.log(CLASSES), rounds.get(0).get("test_loss").asDouble(), 1e-6);
    for (int r = 1; r <= 3; r++) {
      JsonNode round = rounds.get(r);
      assertEquals(r, round.get("round").asInt());
      assertEquals(4, round.get("participants").asInt(), "round " + r);
      assertEquals(0, round.get("rejected").asInt(), "round " + r);
      assertEquals(
          train.size(),
          round.get("total_examples").asLong(),
          "every training row is at some site, round " + r);
    }
    assertEquals(4, json.get("sites").asInt());
    assertEquals(CLASSES, json.get("classes").asInt());
    assertEquals(DIMENSION, json.get("dimension").asInt());
    assertEquals(3, json.get("rounds_run").asInt());
    int siteRows = 0;
    for (JsonNode size : json.get("site_sizes")) {
      siteRows += size.asInt();
    }
    assertEquals(train.size(), siteRows);
    assertTrue(json.get("centralised_reference").isNull(), "no attack, no reference");

    double accuracy = json.get("final_test_accuracy").asDouble();
    assertEquals(rounds.get(3).get("test_accuracy").asDouble(), accuracy, 0.0);
    String figures =
        String.format(
            Locale.ROOT,
            "final test accuracy %.4f (nearest class centre %.4f), rounds %s",
            accuracy,
            nearestCentre,
            rounds);
    assertTrue(accuracy >= 0.75, figures);
    assertTrue(accuracy >= nearestCentre - 0.15, figures);

    List<String> lines = printed.lines().toList();
    assertEquals(
        String.format(Locale.ROOT, "final test accuracy %.4f", accuracy),
        lines.get(lines.size() - 1),
        printed);
    assertTrue(lines.contains("report written to " + report), printed);

    Store written = Store.open(store);
    assertEquals(3, written.requireLatest().round());
    assertEquals(List.of(0, 1, 2), written.historyRounds());
    // simulate registered its test split: the round job's own evaluation agrees with simulate's
    List<fedlake.schema.RoundHistory> history = written.readHistory();
    for (int r = 0; r < 3; r++) {
      fedlake.schema.RoundHistory h = history.get(r);
      assertEquals(
          rounds.get(r + 1).get("test_accuracy").asDouble(),
          h.getTestAccuracy(),
          1e-6,
          "round " + r + ": history's testAccuracy and simulate's test accuracy");
      assertEquals(25L * CLASSES, (long) h.getEvaluationRows(), "round " + r);
      assertEquals(CLASSES, h.getPerClassAccuracy().size(), "round " + r);
    }
    System.out.println(figures);
  }

  @Test
  void withoutStoreTheTemporaryStoreIsRemovedAtTheEnd() throws IOException {
    Path report = dir.resolve("simulate.json");
    String printed = simulate(seeded(), null, report);
    java.util.regex.Matcher named =
        java.util.regex.Pattern.compile(
                "; store (file:\\S+) \\(temporary, removed at the end; --store URI keeps one\\)\n")
            .matcher(printed);
    assertTrue(named.find(), printed);
    Path temporary = Path.of(java.net.URI.create(named.group(1)));
    assertTrue(
        temporary.getFileName().toString().startsWith("fedlake-simulate-"), temporary.toString());
    assertFalse(Files.exists(temporary), temporary + " should be gone");
    List<String> lines = printed.lines().toList();
    assertTrue(lines.get(lines.size() - 1).startsWith("final test accuracy "), printed);
    assertTrue(
        new ObjectMapper().readTree(report.toFile()).get("store").isNull(),
        "the report names no store that no longer exists");
  }

  @Test
  void scaleAttackersAreNamedAndTheAuditOfTheirUpdatesReported() throws IOException {
    Seeded seeded = seeded();
    Path report = dir.resolve("report/attack.json");
    String store = dir.resolve("attacked").toUri().toString();
    String printed =
        simulate(
            seeded,
            store,
            report,
            "--strategy",
            "fedavg",
            "--attack",
            "scale",
            "--attackers",
            "0.25",
            "--aggregation",
            "multi-krum",
            "--attacker-fraction",
            "0.25");
    JsonNode json = new ObjectMapper().readTree(report.toFile());
    assertEquals("scale", json.get("attack").asText());
    assertEquals(1, json.get("attackers").size(), json.toString());
    String attacker = json.get("attackers").get(0).asText();
    assertTrue(
        printed.contains(
            "attack: scale by 1 of 4 sites: " + attacker + "; defence: multi-krum f=0.25"),
        printed);
    int excluded = 0;
    for (JsonNode row : json.get("defence")) {
      if (row.get("attacker").asBoolean()) {
        assertEquals(attacker, row.get("site").asText());
        assertEquals("excluded", row.get("status").asText(), row.toString());
        assertTrue(row.get("reason").asText().startsWith("multi-krum score "), row.toString());
        excluded++;
      }
    }
    assertEquals(3, excluded, "the attacker's update in each of 3 rounds: " + json.get("defence"));
    assertTrue(printed.contains("audit: attackers excluded 1"), printed);
    assertTrue(json.get("final_test_accuracy").asDouble() >= 0.75, json.toString());
  }

  @Test
  void signFlippersAreLeftOutByDirectionFromTheFirstRound() throws IOException {
    // from the zero model a sign-flipped change is as long as an honest one: the norm rules let it
    // through, the direction rule (cosine with the unit-mean change below 0) leaves it out
    Path report = dir.resolve("report/flip.json");
    String printed =
        simulate(
            seeded(),
            dir.resolve("flipped").toUri().toString(),
            report,
            "--strategy",
            "fedavg",
            "--attack",
            "sign-flip",
            "--attackers",
            "0.25",
            "--exclude-median-multiple",
            "4",
            "--direction-floor",
            "0");
    JsonNode json = new ObjectMapper().readTree(report.toFile());
    String attacker = json.get("attackers").get(0).asText();
    assertTrue(
        printed.contains(
            "attack: sign-flip by 1 of 4 sites: "
                + attacker
                + "; defence: mean, exclude above 4.0x median norm, exclude below cosine 0.0 to the"
                + " unit-mean direction"),
        printed);
    int excluded = 0;
    for (JsonNode row : json.get("defence")) {
      assertTrue(row.get("attacker").asBoolean(), "no honest update touched: " + row);
      assertEquals("excluded", row.get("status").asText(), row.toString());
      assertTrue(
          row.get("reason")
              .asText()
              .matches(
                  "(change norm \\S+ above 4 x the median norm \\S+; )?change at cosine"
                      + " -0\\.\\d{4} to the unit-mean change( of itself and the 3 updates a first"
                      + " pass left)?, below the floor 0: left out"),
          row.toString());
      if (row.get("round").asInt() == 0) {
        // from the zero model only the direction sees it
        assertTrue(row.get("reason").asText().startsWith("change at cosine -0."), row.toString());
      }
      excluded++;
    }
    assertEquals(3, excluded, "the attacker's update in each of 3 rounds: " + json.get("defence"));
  }

  @Test
  void labelFlippersAreLeftOutByTheirClassRowsFromTheSecondRound() throws IOException {
    // training on labels c -> C - 1 - c moves each class row toward another class's row: from round
    // 1 (the zero model of round 0 has no rows to compare with) the class-row rule leaves it out
    Path report = dir.resolve("report/label-flip.json");
    String printed =
        simulate(
            seeded(),
            dir.resolve("label-flip").toUri().toString(),
            report,
            "--strategy",
            "fedavg",
            "--attack",
            "label-flip",
            "--attackers",
            "0.25",
            "--misdirected-ceiling",
            "0.5");
    JsonNode json = new ObjectMapper().readTree(report.toFile());
    String attacker = json.get("attackers").get(0).asText();
    assertTrue(
        printed.contains(
            "attack: label-flip by 1 of 4 sites: "
                + attacker
                + "; defence: mean, exclude above 0.5 of the change in misdirected class rows"),
        printed);
    int excluded = 0;
    for (JsonNode row : json.get("defence")) {
      assertTrue(row.get("attacker").asBoolean(), "no honest update touched: " + row);
      if (row.get("round").asInt() == 0) {
        assertEquals("accepted", row.get("status").asText(), row.toString());
        continue;
      }
      assertEquals("excluded", row.get("status").asText(), row.toString());
      assertTrue(
          row.get("reason")
              .asText()
              .matches(
                  "(1|0\\.\\d{4}) of the weight change in class rows moving toward another class's"
                      + " row, above the ceiling 0\\.5000: left out"),
          row.toString());
      excluded++;
    }
    assertEquals(2, excluded, "the attacker's update in rounds 1 and 2: " + json.get("defence"));
    // what the attacker's rows are worth: heads trained in one place on all rows and on the
    // honest sites' rows alone
    JsonNode reference = json.get("centralised_reference");
    assertEquals(20, reference.get("epochs").asInt(), reference.toString());
    for (String field : List.of("all_rows", "honest_rows")) {
      double accuracy = reference.get(field).asDouble();
      assertTrue(accuracy > 0.5 && accuracy <= 1, reference.toString());
    }
    assertTrue(
        printed.contains(
            String.format(
                Locale.ROOT,
                "centralised reference (20 epochs, every row in one place): %.4f on all sites'"
                    + " rows, %.4f on the honest sites' rows alone",
                reference.get("all_rows").asDouble(),
                reference.get("honest_rows").asDouble())),
        printed);
  }

  @Test
  void absentAttackersSendNothing() throws IOException {
    Path report = dir.resolve("report/absent.json");
    String store = dir.resolve("absent").toUri().toString();
    String printed =
        simulate(
            seeded(),
            store,
            report,
            "--strategy",
            "fedavg",
            "--attack",
            "absent",
            "--attackers",
            "0.25");
    JsonNode json = new ObjectMapper().readTree(report.toFile());
    String absent = json.get("attackers").get(0).asText();
    assertTrue(printed.contains("attack: absent by 1 of 4 sites: " + absent + ";"), printed);
    Store written = Store.open(store);
    for (int round = 0; round < 3; round++) {
      List<String> files =
          written.listUpdates(round).stream().map(f -> f.getPath().getName()).toList();
      assertEquals(3, files.size(), "round " + round + ": " + files);
      assertTrue(files.stream().noneMatch(f -> f.contains(absent)), files.toString());
    }
    assertEquals(0, json.get("defence").size(), json.toString());
  }

  @Test
  void cacheFromPooledStatisticsStartsFarAboveChanceAndTrains() throws IOException {
    Seeded seeded = seeded();
    Path report = dir.resolve("simulate.json");
    String store = dir.resolve("store").toUri().toString();
    String printed =
        simulate(seeded, store, report, "--model", "cache", "--synthetic-per-class", "4");
    assertTrue(
        printed.contains(
            "cache model: 32 synthetic keys (4 per class, from per-class statistics pooled over 4 sites), alpha "),
        printed);

    Store written = Store.open(store);
    Model initial = written.readModel(0, 0);
    assertEquals(Models.CACHE, initial.getKind());
    assertEquals("synthetic", initial.getInitialization());
    assertEquals(32, initial.getCacheLabels().size());
    assertEquals(32 * DIMENSION, initial.getCacheKeys().size());
    Model last = written.readModel(3, 0);
    assertEquals(Models.CACHE, last.getKind());
    assertEquals("scaffold", last.getStrategy());

    JsonNode rounds = new ObjectMapper().readTree(report.toFile()).get("rounds");
    double start = rounds.get(0).get("test_accuracy").asDouble();
    double end = rounds.get(3).get("test_accuracy").asDouble();
    String figures =
        String.format(
            Locale.ROOT,
            "cache test accuracy %.4f at round 0, %.4f after 3 rounds (nearest class centre %.4f)",
            start,
            end,
            seeded.nearestCentre());
    // The synthetic keys are as noisy as real rows of this low-dimensional data, so the round-0
    // cache is below the
    // nearest-centre rule but far above chance (1/8); fine-tuning the keys closes part of the gap.
    assertTrue(start >= 0.6, figures);
    assertTrue(end > start, figures);
    assertTrue(end >= seeded.nearestCentre() - 0.15, figures);
    for (int r = 1; r <= 3; r++) {
      assertEquals(4, rounds.get(r).get("participants").asInt(), "round " + r);
      assertEquals(0, rounds.get(r).get("rejected").asInt(), "round " + r);
    }
    System.out.println(figures);
  }
}
