package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Npy;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.core.synth.Ccvr;
import fedlake.core.synth.SiteStatistics;
import fedlake.core.synth.StatisticsStore;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Update;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The opt-in site statistics of the edge runner: absent by default, known values when asked,
 * options checked.
 */
class SiteStatisticsTest {
  @TempDir Path dir;
  private String storeUri;
  private Path data;

  /**
   * Class 0: (3, 4) and (0, 1), unit (0.6, 0.8) and (0, 1): mean (0.3, 0.9), variance (0.09, 0.01),
   * covariance [[0.09, -0.03], [-0.03, 0.01]]. Class 2: one row (1, 0). Class 1: none.
   */
  @BeforeEach
  void federation() throws IOException {
    storeUri = dir.resolve("store").toUri().toString();
    new Federation(Store.open(storeUri)).dimension(2).classes(3).execute();
    data = Files.createDirectories(dir.resolve("site"));
    Npy.writeFloat32(data.resolve("X.npy"), new float[] {3, 4, 0, 1, 1, 0}, 3, 2);
    Npy.writeInt32(data.resolve("y.npy"), new int[] {0, 0, 2});
  }

  private Update train(String... more) {
    return train(storeUri, 0, more);
  }

  private Update train(String storeUri, int round, String... more) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] base = {
      "train",
      "--store",
      storeUri,
      "--site",
      "a",
      "--data",
      data.toString(),
      "--state-dir",
      dir.resolve("state").toString(),
      "--quiet"
    };
    String[] args =
        java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(more))
            .toArray(String[]::new);
    int code =
        EdgeMain.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    Store store = Store.open(storeUri);
    List<Update> updates =
        store.listUpdates(round).stream()
            .map(s -> new UpdateReader(new Configuration()).read(s.getPath().toString()))
            .sorted(java.util.Comparator.comparing(Update::getCreatedTime))
            .toList();
    return updates.get(updates.size() - 1);
  }

  @Test
  void noStatisticsUnlessAsked() {
    assertNull(train().getClassStatistics());
  }

  @Test
  void statisticsOfTheLocalClasses() {
    List<ClassStatistics> statistics = train("--site-stats").getClassStatistics();
    assertEquals(2, statistics.size());
    ClassStatistics zero = statistics.get(0);
    assertEquals(0, zero.getClassId());
    assertEquals(2L, zero.getCount());
    assertArrayEquals(new float[] {0.3f, 0.9f}, FloatArrays.toArray(zero.getMean()), 1e-6f);
    assertArrayEquals(new float[] {0.09f, 0.01f}, FloatArrays.toArray(zero.getVariance()), 1e-6f);
    assertArrayEquals(
        new float[] {0.09f, -0.03f, -0.03f, 0.01f},
        FloatArrays.toArray(zero.getCovariance()),
        1e-6f);
    assertEquals(2, statistics.get(1).getClassId());
    assertEquals(1L, statistics.get(1).getCount());

    List<ClassStatistics> diagonal =
        train("--site-stats", "--site-stats-spread", "variance", "--site-stats-min-count", "2")
            .getClassStatistics();
    assertEquals(1, diagonal.size(), "class 2 has one example, below the minimum");
    assertNull(diagonal.get(0).getCovariance());
    // the round job accepts what the edge runner reports (counts match the label histogram, values
    // in range)
    var result = new RoundJob(Store.open(storeUri)).execute();
    assertEquals(1, result.accepted());
    assertEquals(
        1,
        result.audit().stream()
            .filter(a -> a.getReason() != null && a.getReason().startsWith("superseded"))
            .count(),
        "the earlier upload was valid too, only superseded: " + result.audit());
  }

  private static float[] calibrateRound(String uri) {
    var result =
        new RoundJob(Store.open(uri))
            .calibration(new Ccvr().perClass(20).epochs(2).seed(1).cache(false))
            .execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    assertTrue(
        result.history().get(0).getCalibrated(), result.history().get(0).getCalibrationMessage());
    return Models.parameters(result.published().get(0));
  }

  @Test
  void unchangedStatisticsAreSentOnceAndStillCalibrate() throws IOException {
    Update first = train("--site-stats");
    String fingerprint = SiteStatistics.fingerprint(first.getClassStatistics());
    assertEquals(fingerprint, first.getStatisticsFingerprint());
    calibrateRound(storeUri);
    Update second = train(storeUri, 1, "--site-stats");
    assertNull(second.getClassStatistics(), "the server holds them: not sent again");
    assertEquals(fingerprint, second.getStatisticsFingerprint());
    float[] fromStore = calibrateRound(storeUri);

    // the same two rounds in a store that lost the site's statistics before round 1: the site sends
    // them again
    String other = dir.resolve("resent").toUri().toString();
    new Federation(Store.open(other)).dimension(2).classes(3).execute();
    train(other, 0, "--site-stats");
    calibrateRound(other);
    Store resent = Store.open(other);
    resent.fileSystem().delete(new StatisticsStore(resent).file("a"), false);
    Update again = train(other, 1, "--site-stats");
    assertEquals(
        first.getClassStatistics(), again.getClassStatistics(), "no statistics held: sent");
    assertEquals(fingerprint, again.getStatisticsFingerprint());
    assertArrayEquals(
        fromStore,
        calibrateRound(other),
        "calibrated with the stored statistics as with the re-sent ones");
  }

  @Test
  void changedStatisticsAreSentAgain() throws IOException {
    train("--site-stats");
    calibrateRound(storeUri);
    Npy.writeFloat32(
        data.resolve("X.npy"), new float[] {3, 4, 0, 1, 0, 1}, 3, 2); // class 2's example moved
    Update changed = train(storeUri, 1, "--site-stats");
    assertEquals(2, changed.getClassStatistics().size());
    assertEquals(
        SiteStatistics.fingerprint(changed.getClassStatistics()),
        changed.getStatisticsFingerprint());
    calibrateRound(storeUri);
    assertEquals(
        changed.getStatisticsFingerprint(),
        new StatisticsStore(Store.open(storeUri)).fingerprint("a"));
  }

  @Test
  void optionsNeedTheFlag() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        EdgeMain.run(
            new String[] {
              "train",
              "--store",
              storeUri,
              "--site",
              "a",
              "--data",
              data.toString(),
              "--site-stats-spread",
              "variance"
            },
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, code);
    assertEquals(
        "fedlake edge: --site-stats-spread needs --site-stats\n",
        err.toString(StandardCharsets.UTF_8));
    ByteArrayOutputStream err2 = new ByteArrayOutputStream();
    EdgeMain.run(
        new String[] {
          "train",
          "--store",
          storeUri,
          "--site",
          "a",
          "--data",
          data.toString(),
          "--site-stats",
          "--site-stats-spread",
          "full"
        },
        new PrintStream(new ByteArrayOutputStream()),
        new PrintStream(err2, true, StandardCharsets.UTF_8));
    assertEquals(
        "fedlake edge: --site-stats-spread must be 'variance' or 'covariance', got 'full'\n",
        err2.toString(StandardCharsets.UTF_8));
  }
}
