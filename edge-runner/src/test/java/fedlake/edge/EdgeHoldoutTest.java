package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.schema.Update;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** edge train --holdout: which rows stay out, and the received model's accuracy on them. */
class EdgeHoldoutTest {
  @TempDir Path dir;

  private Update onlyUpdate(Path root, String site) throws IOException {
    try (Stream<Path> walk = Files.walk(root.resolve("updates"))) {
      List<Path> files =
          walk.filter(p -> p.getFileName().toString().startsWith(site + "--")).toList();
      assertEquals(1, files.size(), files.toString());
      return new UpdateReader(new Configuration()).read(files.get(0).toUri().toString());
    }
  }

  @Test
  void theSplitIsTheSameEveryTimeAndKeepsTheAskedShare() {
    int[][] split = EdgeTrain.holdoutSplit("site-a", 20, 0.25);
    assertEquals(5, split[0].length);
    assertEquals(15, split[1].length);
    assertArrayEquals(split[0], EdgeTrain.holdoutSplit("site-a", 20, 0.25)[0], "seeded by site");
    int[] all =
        java.util.stream.IntStream.concat(
                java.util.Arrays.stream(split[0]), java.util.Arrays.stream(split[1]))
            .sorted()
            .toArray();
    assertArrayEquals(java.util.stream.IntStream.range(0, 20).toArray(), all);
    assertEquals(1, EdgeTrain.holdoutSplit("s", 3, 0.01)[0].length, "at least one row out");
    assertEquals(2, EdgeTrain.holdoutSplit("s", 3, 0.99)[0].length, "at least one row trains");
  }

  @Test
  void theUpdateCarriesTheReceivedModelsAccuracyOnTheHeldOutRows() throws IOException {
    Path root = dir.resolve("store");
    Store store = Store.open(root.toUri().toString());
    new Federation(store).dimension(4).classes(3).execute();
    Dataset data = new GaussianClasses(3, 4, 0.5, 5).sample(8, 6, "site");
    Path file = dir.resolve("site.parquet");
    DatasetFiles.writeParquet(
        data, new org.apache.hadoop.fs.Path(file.toUri()), new Configuration(), "r-");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        EdgeMain.run(
            new String[] {
              "train",
              "--store",
              root.toUri().toString(),
              "--site",
              "site-h",
              "--data",
              file.toString(),
              "--holdout",
              "0.25",
              "--state-dir",
              dir.resolve("state").toString()
            },
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    Update update = onlyUpdate(root, "site-h");
    int[][] split = EdgeTrain.holdoutSplit("site-h", 24, 0.25);
    // the received round-0 model is all zeros: every logit ties and class 0 is predicted, so the
    // accuracy is the share of class 0 among the held-out rows
    long zeros = java.util.Arrays.stream(split[0]).filter(r -> data.label(r) == 0).count();
    assertEquals((double) zeros / 6, update.getHoldoutAccuracy(), 0.0);
    assertEquals(6L, update.getHoldoutExamples());
    assertEquals(18L, update.getNumExamples(), "held-out rows do not train");
    long[] histogram = new long[3];
    for (int r : split[1]) {
      histogram[data.label(r)]++;
    }
    assertEquals(List.of(histogram[0], histogram[1], histogram[2]), update.getLabelHistogram());

    ByteArrayOutputStream plainErr = new ByteArrayOutputStream();
    EdgeMain.run(
        new String[] {
          "train",
          "--store",
          root.toUri().toString(),
          "--site",
          "site-p",
          "--data",
          file.toString(),
          "--quiet",
          "--state-dir",
          dir.resolve("state").toString()
        },
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(plainErr, true, StandardCharsets.UTF_8));
    Update plain = onlyUpdate(root, "site-p");
    assertNull(plain.getHoldoutAccuracy());
    assertEquals(24L, plain.getNumExamples());
  }

  @Test
  void aShareOutsideZeroToOneIsRefused() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        EdgeMain.run(
            new String[] {
              "train", "--store", "x", "--site", "a", "--data", "y", "--holdout", "1.5"
            },
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, code);
    assertEquals(
        "fedlake edge: --holdout must be at least 0 and below 1 (a share of the local rows), got"
            + " 1.5\n",
        err.toString(StandardCharsets.UTF_8));
  }
}
