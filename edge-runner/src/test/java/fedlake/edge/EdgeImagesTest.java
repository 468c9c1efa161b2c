package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Npy;
import fedlake.core.init.Federation;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.encoder.EncoderSettings;
import fedlake.encoder.ImageEncoder;
import fedlake.encoder.TinyTorchScript;
import fedlake.schema.Update;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code edge train --images}: small images the test draws and a small TorchScript encoder it
 * writes ({@link TinyTorchScript}, loaded by DJL's PyTorch engine as a real CLIP export is). The
 * first run embeds every image, the second embeds none, and both give the update that training on
 * the same embeddings written as {@code .npy} gives, bit for bit.
 */
class EdgeImagesTest {
  private static final int DIMENSION = 8;
  private static final int CLASSES = 3;
  private static final int PER_CLASS = 4;

  @TempDir Path dir;
  private String storeUri;
  private Path images;
  private Path model;

  record Run(int exitCode, String out, String err) {}

  @BeforeEach
  void setUp() throws IOException {
    storeUri = dir.resolve("store").toUri().toString();
    new Federation(Store.open(storeUri)).dimension(DIMENSION).classes(CLASSES).execute();
    model = dir.resolve("models/tiny-clip.pt");
    Files.createDirectories(model.getParent());
    TinyTorchScript.quadrantLinear(DIMENSION, 42).save(model);
    images = dir.resolve("images");
    Random random = new Random(7);
    for (int c = 0; c < CLASSES; c++) {
      for (int i = 0; i < PER_CLASS; i++) {
        // each class leans to one colour channel, so the head has something to learn
        int[] quadrants = new int[4];
        for (int q = 0; q < 4; q++) {
          int[] rgb = {random.nextInt(90), random.nextInt(90), random.nextInt(90)};
          rgb[c] += 120 + random.nextInt(30);
          quadrants[q] = (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
        }
        write(quadrants(40 + 8 * i, quadrants), images.resolve(c + "/img-" + i + ".png"));
      }
    }
  }

  private static BufferedImage quadrants(int side, int[] colours) {
    BufferedImage image = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        image.setRGB(x, y, colours[(y < side / 2 ? 0 : 2) + (x < side / 2 ? 0 : 1)]);
      }
    }
    return image;
  }

  private static void write(BufferedImage image, Path file) throws IOException {
    Files.createDirectories(file.getParent());
    assertTrue(ImageIO.write(image, "png", file.toFile()), "a PNG writer");
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

  private Run trainOnImages(String site, Path stateDir, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "train",
                "--store",
                storeUri,
                "--site",
                site,
                "--images",
                images.toString(),
                "--encoder",
                model.toString(),
                "--state-dir",
                stateDir.toString(),
                "--seed",
                "3"));
    args.addAll(List.of(more));
    return run(args.toArray(String[]::new));
  }

  /** The update {@code site} uploaded (exactly one). */
  private Update updateOf(String site) throws IOException {
    List<Update> found = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir.resolve("store/updates/round-000000"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".parquet")).toList()) {
        Update update = new UpdateReader(new Configuration()).read(file.toUri().toString());
        if (update.getSite().equals(site)) {
          found.add(update);
        }
      }
    }
    assertEquals(1, found.size(), "updates of site " + site);
    return found.get(0);
  }

  private static int[] counts(String err) {
    Matcher m = Pattern.compile("embedded (\\d+), cached (\\d+)").matcher(err);
    assertTrue(m.find(), "a line with the counts in: " + err);
    return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
  }

  private static long cacheFiles(Path cache) throws IOException {
    if (!Files.exists(cache)) {
      return 0;
    }
    try (Stream<Path> walk = Files.walk(cache)) {
      return walk.filter(f -> f.getFileName().toString().matches("[0-9a-f]{64}\\.npy")).count();
    }
  }

  @Test
  void secondRunEmbedsNothingAndBothEqualTrainingOnTheSameEmbeddingsAsNpy() throws IOException {
    Path state = dir.resolve("state-images");
    Run first = trainOnImages("site-images", state);
    assertEquals(0, first.exitCode(), first.err());
    assertEquals(CLASSES * PER_CLASS, counts(first.err())[0], "embedded in the first run");
    assertEquals(0, counts(first.err())[1], "cached in the first run");
    assertTrue(
        first.err().contains("images: embedded 12/12 (100%"), "progress on stderr: " + first.err());
    assertTrue(
        first.out().contains("12 examples x 8 dims, 3 classes"), "trains as usual: " + first.out());
    Path cache = state.resolve("embeddings");
    assertEquals(CLASSES * PER_CLASS, cacheFiles(cache), "one cache file per image");

    Run second = trainOnImages("site-images-again", state);
    assertEquals(0, second.exitCode(), second.err());
    assertEquals(0, counts(second.err())[0], "embedded in the second run: " + second.err());
    assertEquals(CLASSES * PER_CLASS, counts(second.err())[1], "cached in the second run");
    assertFalse(second.err().contains("images: embedding"), "no model loaded: " + second.err());

    // the same embeddings, computed by the encoder directly in the runner's order, as .npy
    List<Path> files = new ArrayList<>();
    int[] labels = new int[CLASSES * PER_CLASS];
    for (int c = 0; c < CLASSES; c++) {
      for (int i = 0; i < PER_CLASS; i++) {
        labels[files.size()] = c;
        files.add(images.resolve(c + "/img-" + i + ".png"));
      }
    }
    float[] features = new float[files.size() * DIMENSION];
    try (ImageEncoder encoder = ImageEncoder.load(EncoderSettings.of(model.toString()))) {
      List<float[]> embedded = encoder.embedFiles(files);
      for (int row = 0; row < files.size(); row++) {
        System.arraycopy(embedded.get(row), 0, features, row * DIMENSION, DIMENSION);
      }
    }
    Path npy = Files.createDirectories(dir.resolve("npy"));
    Npy.writeFloat32(npy.resolve("X.npy"), features, files.size(), DIMENSION);
    Npy.writeInt32(npy.resolve("y.npy"), labels);
    Run fromNpy =
        run(
            "train",
            "--store",
            storeUri,
            "--site",
            "site-npy",
            "--data",
            npy.toString(),
            "--state-dir",
            dir.resolve("state-npy").toString(),
            "--seed",
            "3");
    assertEquals(0, fromNpy.exitCode(), fromNpy.err());

    Update expected = updateOf("site-npy");
    assertNotEquals(
        List.copyOf(expected.getWeights()),
        java.util.Collections.nCopies(expected.getWeights().size(), 0f),
        "training moved the weights");
    for (String site : List.of("site-images", "site-images-again")) {
      Update update = updateOf(site);
      assertEquals(expected.getWeights(), update.getWeights(), site + " weights, bit for bit");
      assertEquals(expected.getBias(), update.getBias(), site + " bias, bit for bit");
      assertEquals(expected.getNumExamples(), update.getNumExamples());
      assertEquals(expected.getLabelHistogram(), update.getLabelHistogram());
      assertEquals(expected.getLocalLoss(), update.getLocalLoss());
    }
  }

  @Test
  void cacheIsKeyedByContentAndEncoder() throws IOException {
    Path cache = dir.resolve("cache");
    Path state = dir.resolve("state");
    assertEquals(0, trainOnImages("a", state, "--cache", cache.toString()).exitCode());
    assertEquals(0, cacheFiles(state.resolve("embeddings")), "--cache replaces the default");
    assertEquals(CLASSES * PER_CLASS, cacheFiles(cache));

    // a renamed image is found by its content; a changed one is embedded again
    Files.move(images.resolve("0/img-0.png"), images.resolve("0/renamed.png"));
    write(
        quadrants(50, new int[] {0xff0000, 0x00ff00, 0x0000ff, 0x808080}),
        images.resolve("1/img-1.png"));
    Run changed = trainOnImages("b", state, "--cache", cache.toString());
    assertEquals(0, changed.exitCode(), changed.err());
    assertEquals(1, counts(changed.err())[0], changed.err());
    assertEquals(CLASSES * PER_CLASS - 1, counts(changed.err())[1], changed.err());

    // another encoder (other weights) shares no entries
    TinyTorchScript.quadrantLinear(DIMENSION, 43).save(model);
    Run other = trainOnImages("c", state, "--cache", cache.toString());
    assertEquals(0, other.exitCode(), other.err());
    assertEquals(CLASSES * PER_CLASS, counts(other.err())[0], other.err());
    assertEquals(0, counts(other.err())[1], other.err());
  }

  @Test
  void namedClassFoldersMapThroughAClassNamesFile() throws IOException {
    Path named = dir.resolve("named");
    // a site holding two of the three classes: names map to their line, not to 0, 1
    Files.move(images.resolve("2"), Files.createDirectories(named).resolve("golden_retriever"));
    Files.move(images.resolve("0"), named.resolve("Cat"));
    Path classNames = dir.resolve("classnames.txt");
    Files.writeString(classNames, "cat\ndog\ngolden retriever\n");
    Run run =
        run(
            "train",
            "--store",
            storeUri,
            "--site",
            "named",
            "--images",
            named.toString(),
            "--encoder",
            model.toString(),
            "--classnames",
            classNames.toString(),
            "--state-dir",
            dir.resolve("state").toString());
    assertEquals(0, run.exitCode(), run.err());
    assertEquals(List.of(4L, 0L, 4L), updateOf("named").getLabelHistogram());
  }

  // ---- bad input: exit code 2, one line naming the option or file ----------------------------

  private static String failure(Run run) {
    assertEquals(2, run.exitCode(), "exit code; stderr: " + run.err());
    List<String> lines = run.err().lines().toList();
    assertEquals(1, lines.size(), "one line on stderr, got: " + run.err());
    return lines.get(0);
  }

  @Test
  void optionErrors() {
    String images = this.images.toString();
    assertEquals(
        "fedlake edge: --images needs --encoder PATH_OR_URL, the frozen image encoder (TorchScript .pt)",
        failure(run("train", "--store", storeUri, "--site", "a", "--images", images)));
    assertEquals(
        "fedlake edge: --encoder needs --images DIR",
        failure(
            run(
                "train",
                "--store",
                storeUri,
                "--site",
                "a",
                "--data",
                images,
                "--encoder",
                model.toString())));
    assertEquals(
        "fedlake edge: --data and --images exclude each other: train on embeddings (--data) or on"
            + " images (--images with --encoder)",
        failure(
            run(
                "train",
                "--store",
                storeUri,
                "--site",
                "a",
                "--data",
                images,
                "--images",
                images,
                "--encoder",
                model.toString())));
    assertEquals(
        "fedlake edge: --image-size must be at least 1, got 0",
        failure(
            run(
                "train",
                "--store",
                storeUri,
                "--site",
                "a",
                "--images",
                images,
                "--encoder",
                model.toString(),
                "--image-size",
                "0")));
  }

  @Test
  void anImageThatDoesNotDecodeIsNamed() throws IOException {
    Path broken = images.resolve("1/broken.png");
    Files.writeString(broken, "not a png");
    assertEquals(
        "fedlake edge: file:"
            + broken
            + ": cannot decode image: content is not PNG, JPEG, BMP or GIF",
        failure(trainOnImages("a", dir.resolve("state"), "--quiet")));
  }

  @Test
  void aMissingEncoderIsNamed() {
    Path missing = dir.resolve("models/none.pt");
    assertEquals(
        "fedlake edge: " + missing + ": cannot load encoder model: no such file or directory",
        failure(
            run(
                "train",
                "--store",
                storeUri,
                "--site",
                "a",
                "--images",
                images.toString(),
                "--encoder",
                missing.toString())));
  }

  @Test
  void aClassFolderBeyondTheModelsClassesIsNamed() throws IOException {
    Files.move(images.resolve("2"), images.resolve("7"));
    Path state = dir.resolve("state");
    assertEquals(
        "fedlake edge: file:"
            + images.resolve("7")
            + ": is class 7 but the model has 3 classes (0..2): name class folders by class id, or"
            + " pass --classnames (sorted folder names get 0, 1, ...)",
        failure(trainOnImages("a", state)));
    assertEquals(0, cacheFiles(state.resolve("embeddings")), "refused before embedding");
  }

  @Test
  void aStoreWithoutAModelFailsBeforeEmbedding() {
    Path state = dir.resolve("state");
    String empty = dir.resolve("empty-store").toUri().toString();
    Run run =
        run(
            "train",
            "--store",
            empty,
            "--site",
            "a",
            "--images",
            images.toString(),
            "--encoder",
            model.toString(),
            "--state-dir",
            state.toString());
    assertEquals(
        "fedlake edge: No model published yet in "
            + empty
            + ": run 'fedlake init --store "
            + empty
            + " ...' first",
        failure(run));
    assertFalse(Files.exists(state.resolve("embeddings")), "nothing embedded");
  }
}
