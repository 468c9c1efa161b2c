package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.core.train.TrainSettings;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edge runner CLI against a real local store and real data files. */
class EdgeMainTest {
  private static final int DIMENSION = 8;
  private static final int CLASSES = 3;

  @TempDir Path dir;
  private String storeUri;
  private Store store;
  private Model model;
  private final GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 0.5, 11);

  /** What one CLI run printed and returned. */
  record Run(int exitCode, String out, String err) {}

  @BeforeEach
  void initFederation() {
    storeUri = dir.resolve("store").toUri().toString();
    store = Store.open(storeUri);
    new Federation(store).dimension(DIMENSION).classes(CLASSES).execute();
    model = store.readModel(0, 0);
  }

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        EdgeMain.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Run train(String store, String site, Path data, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "train",
                "--store",
                store,
                "--site",
                site,
                "--data",
                data.toString(),
                "--seed",
                "3"));
    args.addAll(List.of(more));
    return run(args.toArray(String[]::new));
  }

  /** Asserts exit code 2 and exactly one error line, and returns it. */
  private static String failure(Run run) {
    assertEquals(2, run.exitCode(), "exit code; stderr: " + run.err());
    List<String> lines = run.err().lines().toList();
    assertEquals(1, lines.size(), "one line on stderr, got: " + run.err());
    return lines.get(0);
  }

  /** Writes X.npy and y.npy into {@code folder}. */
  private static Path npyFolder(Path folder, float[] features, int rows, int columns, int[] labels)
      throws IOException {
    Files.createDirectories(folder);
    Npy.writeFloat32(folder.resolve("X.npy"), features, rows, columns);
    Npy.writeInt32(folder.resolve("y.npy"), labels);
    return folder;
  }

  private Path siteFolder(String name, int perClass, long seed) throws IOException {
    Dataset data = generator.sample(perClass, seed, name);
    return npyFolder(dir.resolve(name), data.features(), data.size(), DIMENSION, data.labels());
  }

  private static String hadoopUri(Path file) {
    return new org.apache.hadoop.fs.Path(file.toUri()).toString();
  }

  private List<Path> updateFiles() throws IOException {
    Path folder = dir.resolve("store/updates/round-000000");
    if (!Files.exists(folder)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(folder)) {
      return files.sorted().toList();
    }
  }

  // ---- bad input: exit code 2, one line naming the file ------------------------------------

  @Test
  void missingDataFile() throws IOException {
    Path missing = dir.resolve("nowhere/X.npy");
    String line = failure(train(storeUri, "site-a", missing));
    assertEquals("fedlake edge: " + missing + ": no such file or directory", line);
    assertEquals(List.of(), updateFiles());
  }

  @Test
  void missingLabelsFile() throws IOException {
    Path folder = siteFolder("site-a", 4, 1);
    Files.delete(folder.resolve("y.npy"));
    String line = failure(train(storeUri, "site-a", folder));
    assertEquals(
        "fedlake edge: "
            + hadoopUri(folder.resolve("y.npy"))
            + ": labels file missing (expected beside X.npy)",
        line);
  }

  @Test
  void dimensionMismatchWithTheModel() throws IOException {
    Path folder =
        npyFolder(
            dir.resolve("five"),
            new float[] {1, 0, 0, 0, 0, 0, 1, 0, 0, 0},
            2,
            5,
            new int[] {0, 1});
    String line = failure(train(storeUri, "site-a", folder));
    assertEquals(
        "fedlake edge: "
            + hadoopUri(folder.resolve("X.npy"))
            + ": embeddings have dimension 5 but model "
            + model.getVersion()
            + " expects 8",
        line);
    assertEquals(List.of(), updateFiles());
  }

  @Test
  void nanInTheData() throws IOException {
    Dataset data = generator.sample(2, 5, "nan");
    float[] features = data.features().clone();
    features[3 * DIMENSION + 6] = Float.NaN;
    Path folder = npyFolder(dir.resolve("nan"), features, data.size(), DIMENSION, data.labels());
    String line = failure(train(storeUri, "site-a", folder));
    assertEquals(
        "fedlake edge: "
            + hadoopUri(folder.resolve("X.npy"))
            + ": row 3 has a non-finite value (NaN) at position 6",
        line);
  }

  @Test
  void labelOutsideTheModelsClasses() throws IOException {
    Dataset data = generator.sample(2, 5, "labels");
    int[] labels = data.labels().clone();
    labels[4] = CLASSES;
    Path folder = npyFolder(dir.resolve("labels"), data.features(), data.size(), DIMENSION, labels);
    String line = failure(train(storeUri, "site-a", folder));
    assertEquals(
        "fedlake edge: "
            + hadoopUri(folder.resolve("y.npy"))
            + ": row 4 has label 3 but the model has 3 classes (0..2)",
        line);
  }

  @Test
  void negativeLabelInTheData() throws IOException {
    Dataset data = generator.sample(2, 5, "negative");
    int[] labels = data.labels().clone();
    labels[1] = -1;
    Path folder =
        npyFolder(dir.resolve("negative"), data.features(), data.size(), DIMENSION, labels);
    String line = failure(train(storeUri, "site-a", folder));
    assertEquals(
        "fedlake edge: "
            + hadoopUri(folder.resolve("y.npy"))
            + ": label -1.0 at row 1 is not a non-negative integer",
        line);
  }

  @Test
  void noModelPublishedYet() throws IOException {
    String emptyStore = dir.resolve("empty-store").toUri().toString();
    Path folder = siteFolder("site-a", 4, 1);
    String line = failure(train(emptyStore, "site-a", folder));
    String root = Store.open(emptyStore).root().toString();
    assertEquals(
        "fedlake edge: No model published yet in "
            + root
            + ": run 'fedlake init --store "
            + root
            + " ...' first",
        line);
  }

  @Test
  void invalidSiteId() throws IOException {
    String alphabet =
        "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, without '--'";
    Path data = siteFolder("site-a", 4, 1);
    assertEquals(
        "fedlake edge: Invalid site id '../../etc': use " + alphabet,
        failure(train(storeUri, "../../etc", data)));
    // ids the round job would skip as hidden, or whose file name it would read as another site
    for (String site : List.of(".x", "_x", "a--b")) {
      assertEquals(
          "fedlake edge: Invalid site id '" + site + "': use " + alphabet,
          failure(train(storeUri, site, data, "--state-dir", dir.resolve("state").toString())));
    }
    assertEquals(List.of(), updateFiles(), "nothing uploaded");
    assertTrue(!Files.exists(dir.resolve("state")), "nothing trained, no state kept");
  }

  @Test
  void optionsThatCanOnlyGiveARejectedOrUselessUpdateAreRefusedBeforeTraining() throws IOException {
    Path data = siteFolder("site-a", 4, 1);
    assertEquals(
        "fedlake edge: learning rate 1.0E30 cannot give an acceptable update: use a value above 0"
            + " and at most 10.0 (--learning-rate)",
        failure(train(storeUri, "site-a", data, "--learning-rate", "1e30")));
    assertEquals(
        "fedlake edge: 0 local epochs cannot give a useful update: use 1 to 1000 (--epochs)",
        failure(train(storeUri, "site-a", data, "--epochs", "0")));
    assertEquals(
        "fedlake edge: 1000000 local epochs cannot give a useful update: use 1 to 1000 (--epochs)",
        failure(train(storeUri, "site-a", data, "--epochs", "1000000")));
    assertEquals(List.of(), updateFiles(), "nothing uploaded");
  }

  @Test
  void badOptions() {
    assertEquals(
        "fedlake edge: edge train: missing required option --data",
        failure(run("train", "--store", storeUri, "--site", "a")));
    assertEquals(
        "fedlake edge: edge train: --epochs expects a whole number, got 'two'",
        failure(
            run("train", "--store", storeUri, "--site", "a", "--data", "x", "--epochs", "two")));
    Run usage = run("fit");
    assertEquals(2, usage.exitCode());
    assertTrue(usage.err().startsWith("usage: fedlake edge train"), usage.err());
  }

  // ---- happy paths ----------------------------------------------------------------------------

  private Update onlyUpdate(String site) throws IOException {
    List<Path> files =
        updateFiles().stream()
            .filter(f -> f.getFileName().toString().startsWith(site + "--"))
            .toList();
    assertEquals(1, files.size(), "update files of " + site + ": " + files);
    return new UpdateReader(new Configuration()).read(files.get(0).toUri().toString());
  }

  @Test
  void npyFolderAndParquetDataBothProduceUpdates() throws IOException {
    Path npy = siteFolder("site-a", 10, 21);
    Dataset parquetData = generator.sample(6, 22, "site-b");
    Path parquet = dir.resolve("site-b.parquet");
    DatasetFiles.writeParquet(
        parquetData, new org.apache.hadoop.fs.Path(parquet.toUri()), new Configuration(), "b-");

    Run a = train(storeUri, "site-a", npy, "--epochs", "3");
    Run b = train(storeUri, "site-b", parquet, "--quiet");

    assertEquals(0, a.exitCode(), a.err());
    assertEquals("", a.err());
    assertTrue(
        a.out()
            .contains(
                "site site-a: round 0, model "
                    + model.getVersion()
                    + ", 30 examples x 8 dims, 3 classes"),
        a.out());
    assertTrue(a.out().contains("epoch 3/3"), a.out());
    assertEquals(0, b.exitCode(), b.err());
    assertEquals("", b.out(), "--quiet prints nothing");

    Update ua = onlyUpdate("site-a");
    assertEquals("site-a", ua.getSite());
    assertEquals(0, ua.getRound());
    assertEquals(0, ua.getCluster());
    assertEquals(model.getVersion(), ua.getBaseModelVersion());
    assertEquals("head", ua.getKind());
    assertEquals(30, ua.getNumExamples());
    assertEquals(3, ua.getLocalEpochs());
    assertEquals(
        6, ua.getLocalSteps(), "30 examples in batches of 16 (2 steps an epoch), 3 epochs");
    assertEquals(List.of(10L, 10L, 10L), ua.getLabelHistogram());
    assertEquals(CLASSES * DIMENSION, ua.getWeights().size());
    assertTrue(
        ua.getLocalAccuracy() >= 0.9,
        "well separated classes, local accuracy " + ua.getLocalAccuracy());
    assertTrue(
        a.out()
            .contains(
                "site site-a: wrote "
                    + store.updatesDir(0)
                    + "/site-a--"
                    + ua.getUpdateId()
                    + ".parquet"),
        a.out());

    Update ub = onlyUpdate("site-b");
    assertEquals(18, ub.getNumExamples());
    assertEquals(List.of(6L, 6L, 6L), ub.getLabelHistogram());
    assertEquals(TrainSettings.EPOCHS_DEFAULT, ub.getLocalEpochs());

    // the server accepts both and averages them 30 : 18
    RoundResult round = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, round.status(), round.message());
    assertEquals(2, round.history().get(0).getParticipants());
    assertEquals(48, round.history().get(0).getTotalExamples());
    float[] wa = FloatArrays.toArray(ua.getWeights());
    float[] wb = FloatArrays.toArray(ub.getWeights());
    float[] published = FloatArrays.toArray(round.published().get(0).getWeights());
    for (int i = 0; i < published.length; i++) {
      assertEquals(
          (float) ((30.0 * wa[i] + 18.0 * wb[i]) / 48),
          published[i],
          Math.ulp(published[i]),
          "weight " + i);
    }
  }

  @Test
  void namedNpyFilePairAndALaterRound() throws IOException {
    Dataset data = generator.sample(5, 31, "named");
    Files.createDirectories(dir.resolve("named"));
    Npy.writeFloat32(dir.resolve("named/train_X.npy"), data.features(), data.size(), DIMENSION);
    Npy.writeInt32(dir.resolve("named/train_y.npy"), data.labels());
    assertEquals(
        0, train(storeUri, "site-c", dir.resolve("named/train_X.npy"), "--quiet").exitCode());
    assertEquals(RoundResult.Status.PUBLISHED, new RoundJob(store).execute().status());

    Run second = train(storeUri, "site-c", dir.resolve("named"), "--quiet");
    assertEquals(0, second.exitCode(), second.err());
    List<Path> roundOne;
    try (Stream<Path> files = Files.list(dir.resolve("store/updates/round-000001"))) {
      roundOne = files.toList();
    }
    assertEquals(1, roundOne.size());
    Update update = new UpdateReader(new Configuration()).read(roundOne.get(0).toUri().toString());
    assertEquals(1, update.getRound());
    assertEquals(store.requireLatest().version(0), update.getBaseModelVersion());
  }

  @Test
  void identicalDataAndSeedGiveIdenticalParameters() throws IOException {
    Path folder = siteFolder("site-a", 8, 41);
    assertEquals(0, train(storeUri, "site-a", folder, "--quiet").exitCode());
    assertEquals(0, train(storeUri, "site-b", folder, "--quiet").exitCode());
    Update a = onlyUpdate("site-a");
    Update b = onlyUpdate("site-b");
    assertArrayEquals(FloatArrays.toArray(a.getWeights()), FloatArrays.toArray(b.getWeights()), 0f);
    assertArrayEquals(FloatArrays.toArray(a.getBias()), FloatArrays.toArray(b.getBias()), 0f);
  }
}
