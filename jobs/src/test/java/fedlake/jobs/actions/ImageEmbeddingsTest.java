package fedlake.jobs.actions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.init.Federation;
import fedlake.core.store.Store;
import fedlake.core.synth.SyntheticTable;
import fedlake.encoder.ClipPreprocessor;
import fedlake.encoder.EncoderSettings;
import fedlake.encoder.ImageEncoder;
import fedlake.encoder.TinyTorchScript;
import fedlake.jobs.FedlakeMain;
import fedlake.jobs.SparkTestBase;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embeds images the test draws itself with a TorchScript encoder the test writes itself ({@link
 * TinyTorchScript}: 2x2 quadrant means, seeded linear map to 8 values), in Spark partitions, and
 * checks the rows against the answer computed by hand.
 */
class ImageEmbeddingsTest extends SparkTestBase {
  private static final int DIMENSION = 8;
  private static final float TOLERANCE = 2e-4f;
  private static final int RED = 0xff0000;
  private static final int GREEN = 0x00ff00;
  @TempDir static Path shared;
  private static TinyTorchScript tiny;
  private static Path model;

  @TempDir Path dir;

  @BeforeAll
  static void saveModel() throws IOException {
    tiny = TinyTorchScript.quadrantLinear(DIMENSION, 5);
    model = shared.resolve("tiny.pt");
    tiny.save(model);
  }

  private static Path png(BufferedImage image, Path file) throws IOException {
    Files.createDirectories(file.getParent());
    assertTrue(ImageIO.write(image, "png", file.toFile()));
    return file;
  }

  private static BufferedImage solid(int width, int height, int rgb) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, rgb);
      }
    }
    return image;
  }

  private static BufferedImage stripes(int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, ((x / 7) % 2 == 0 ? 0x20c040 : 0xa01080) ^ (y << 1));
      }
    }
    return image;
  }

  /**
   * normalise(W f + b) for an image of one colour: f[channel * 4 + quadrant] = CLIP-normalised
   * level.
   */
  private static float[] expectedSolid(int rgb) {
    float[] features = new float[12];
    for (int c = 0; c < 3; c++) {
      int level = (rgb >> (16 - 8 * c)) & 0xff;
      for (int q = 0; q < 4; q++) {
        features[c * 4 + q] = (level / 255f - ClipPreprocessor.MEAN[c]) / ClipPreprocessor.STD[c];
      }
    }
    float[] weight = tiny.parameter("weight");
    float[] bias = tiny.parameter("bias");
    float[] out = new float[DIMENSION];
    for (int row = 0; row < DIMENSION; row++) {
      double sum = bias[row];
      for (int k = 0; k < 12; k++) {
        sum += weight[row * 12 + k] * features[k];
      }
      out[row] = (float) sum;
    }
    return ImageEncoder.normalise(out);
  }

  private static float[] floats(Row row) {
    List<Float> values = row.getList(row.fieldIndex("embedding"));
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  /** red: 3 images of different sizes, green: 1 image, texture: 2 busy images. */
  private Path drawClasses() throws IOException {
    Path images = dir.resolve("images");
    png(solid(300, 200, RED), images.resolve("red/r1.png"));
    png(solid(224, 224, RED), images.resolve("red/r2.png"));
    png(solid(90, 400, RED), images.resolve("red/r3.png"));
    png(solid(500, 500, GREEN), images.resolve("green/g.png"));
    png(stripes(320, 240), images.resolve("texture/t1.png"));
    png(stripes(256, 512), images.resolve("texture/t2.png"));
    return images;
  }

  @Test
  void everyImageOnceGivesTheHandComputedEmbeddings() throws IOException {
    Path images = drawClasses();
    ImageEmbeddings.Result result =
        ImageEmbeddings.of(spark())
            .images(images.toString())
            .model(EncoderSettings.of(model.toString()).withBatchSize(2))
            .partitions(3)
            .execute();
    assertEquals(
        List.of("green", "red", "texture"), result.classes().stream().map(c -> c.name()).toList());
    assertEquals(6, result.images());
    assertEquals(6, result.rowCount());
    assertEquals(DIMENSION, result.dimension());
    List<Row> rows = result.rows().collectAsList();
    Map<String, Row> byId = new HashMap<>();
    rows.forEach(row -> byId.put(row.getString(0), row));
    assertEquals(6, byId.size());
    assertEquals(0, byId.get("green/g.png").getInt(1));
    assertArrayEquals(expectedSolid(GREEN), floats(byId.get("green/g.png")), TOLERANCE);
    for (String red : List.of("red/r1.png", "red/r2.png", "red/r3.png")) {
      assertEquals(1, byId.get(red).getInt(1), red);
      assertArrayEquals(expectedSolid(RED), floats(byId.get(red)), TOLERANCE, red);
    }
    // a busy image: Spark gives what the encoder computes directly on the same file
    try (ImageEncoder direct = ImageEncoder.load(EncoderSettings.of(model.toString()))) {
      for (String texture : List.of("texture/t1.png", "texture/t2.png")) {
        Row row = byId.get(texture);
        assertEquals(2, row.getInt(1));
        assertTrue(row.getString(3).endsWith(texture), row.getString(3));
        assertArrayEquals(direct.embed(images.resolve(texture)), floats(row), 1e-6f, texture);
      }
    }
    result.rows().unpersist();
  }

  @Test
  void perClassGivesExactlyMRowsPerClass() throws IOException {
    Path images = drawClasses();
    ImageEmbeddings.Result result =
        ImageEmbeddings.of(spark())
            .images(images.toString())
            .model(EncoderSettings.of(model.toString()))
            .perClass(4)
            .seed(3)
            .execute();
    assertEquals(6, result.images(), "each distinct image is embedded once");
    assertEquals(12, result.rowCount());
    List<Row> rows = result.rows().collectAsList();
    Map<Integer, Integer> perClass = new HashMap<>();
    rows.forEach(row -> perClass.merge(row.getInt(1), 1, Integer::sum));
    assertEquals(Map.of(0, 4, 1, 4, 2, 4), perClass);
    assertEquals(
        12, rows.stream().map(row -> row.getString(0)).distinct().count(), "ids are unique");
    List<String> greenIds =
        rows.stream()
            .filter(row -> row.getInt(1) == 0)
            .map(row -> row.getString(0))
            .sorted()
            .toList();
    assertEquals(
        List.of("green/g.png", "green/g.png#1", "green/g.png#2", "green/g.png#3"), greenIds);
    for (Row row : rows) {
      if (row.getInt(1) == 0) {
        assertArrayEquals(expectedSolid(GREEN), floats(row), TOLERANCE);
      }
    }
    List<String> again =
        ImageEmbeddings.of(spark())
            .images(images.toString())
            .model(EncoderSettings.of(model.toString()))
            .perClass(4)
            .seed(3)
            .execute()
            .rows()
            .collectAsList()
            .stream()
            .map(row -> row.getString(0))
            .toList();
    assertEquals(
        rows.stream().map(row -> row.getString(0)).toList(), again, "same seed, same rows");
    result.rows().unpersist();
  }

  @Test
  void emptyClassFolderIsNamed() throws IOException {
    Path images = drawClasses();
    Path empty = Files.createDirectories(images.resolve("blue"));
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () ->
                ImageEmbeddings.of(spark())
                    .images(images.toString())
                    .model(EncoderSettings.of(model.toString()))
                    .perClass(2)
                    .execute());
    assertEquals(
        "file:" + empty + ": class folder holds no images (.png, .jpg or .jpeg)", e.getMessage());
  }

  @Test
  void imageThatDoesNotDecodeIsNamedFromTheExecutor() throws IOException {
    Path images = drawClasses();
    Path broken = Files.writeString(images.resolve("red/broken.jpg"), "not a JPEG at all");
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () ->
                ImageEmbeddings.of(spark())
                    .images(images.toString())
                    .model(EncoderSettings.of(model.toString()))
                    .execute());
    assertEquals(
        "file:" + broken + ": cannot decode image: content is not PNG, JPEG, BMP or GIF",
        e.getMessage());
  }

  @Test
  void modelThatDoesNotLoadIsNamed() throws IOException {
    Path images = drawClasses();
    String missing = dir.resolve("no-such-model.pt").toString();
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () ->
                ImageEmbeddings.of(spark())
                    .images(images.toString())
                    .model(EncoderSettings.of(missing))
                    .execute());
    assertEquals(
        missing + ": cannot load encoder model: no such file or directory", e.getMessage());

    // exists, so only an executor finds out it is not TorchScript
    Path garbage = Files.writeString(dir.resolve("garbage.pt"), "zeros and ones");
    e =
        assertThrows(
            InvalidInputException.class,
            () ->
                ImageEmbeddings.of(spark())
                    .images(images.toString())
                    .model(EncoderSettings.of(garbage.toString()))
                    .execute());
    assertTrue(
        e.getMessage().startsWith(garbage + ": cannot load encoder model with the PyTorch engine"),
        e.getMessage());
  }

  private static int run(ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
    return FedlakeMain.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void commandWritesDatasetRowsAndNeverTouchesPublishedFiles() throws IOException {
    Path images = drawClasses();
    Path output = dir.resolve("out/embeddings.parquet");
    spark(); // the command picks up the running local[2] session (and stops it when done)
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        run(
            out,
            err,
            "embed-images",
            "--images",
            images.toString(),
            "--model",
            model.toString(),
            "--out",
            output.toString(),
            "--per-class",
            "5",
            "--seed",
            "1");
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, "stderr: " + err + "\nstdout: " + printed);
    assertTrue(
        printed.contains("Embedded 6 images of 3 classes with " + model + " (8 values each)"),
        printed);
    assertTrue(printed.contains("Wrote 15 rows to file:" + output), printed);
    Dataset data = DatasetFiles.read(output.toString(), new Configuration());
    assertEquals(15, data.size());
    assertEquals(DIMENSION, data.dimension());
    int[] counts = new int[3];
    for (int i = 0; i < data.size(); i++) {
      counts[data.label(i)]++;
    }
    assertArrayEquals(new int[] {5, 5, 5}, counts);
    byte[] published = Files.readAllBytes(output);

    // an existing output is refused before any work
    spark();
    ByteArrayOutputStream err2 = new ByteArrayOutputStream();
    code =
        run(
            new ByteArrayOutputStream(),
            err2,
            "embed-images",
            "--images",
            images.toString(),
            "--model",
            model.toString(),
            "--out",
            output.toString());
    assertEquals(2, code);
    assertEquals(
        "fedlake embed-images: "
            + output
            + ": output already exists; choose another --out or pass --overwrite\n",
        err2.toString(StandardCharsets.UTF_8));

    // a failing run with --overwrite leaves the published file as it was and no temporary file
    Path broken = Files.writeString(images.resolve("green/broken.png"), "truncated");
    spark();
    ByteArrayOutputStream err3 = new ByteArrayOutputStream();
    code =
        run(
            new ByteArrayOutputStream(),
            err3,
            "embed-images",
            "--images",
            images.toString(),
            "--model",
            model.toString(),
            "--out",
            output.toString(),
            "--overwrite");
    assertEquals(2, code);
    assertEquals(
        "fedlake embed-images: file:"
            + broken
            + ": cannot decode image: content is not PNG, JPEG, BMP or GIF\n",
        err3.toString(StandardCharsets.UTF_8));
    assertArrayEquals(published, Files.readAllBytes(output));
    try (Stream<Path> files = Files.list(output.getParent())) {
      List<String> names =
          files.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).toList();
      assertEquals(List.of("embeddings.parquet"), names);
    }
    assertFalse(Files.exists(dir.resolve("out/.embeddings.parquet.tmp")));
  }

  @Test
  void synthesizeFromImagesWritesMRowsPerClassWithProvenance() throws IOException {
    Path images = drawClasses();
    String storeUri = dir.resolve("store").toUri().toString();
    Store store = Store.open(storeUri);
    new Federation(store).dimension(DIMENSION).classes(3).execute();
    spark();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        run(
            out,
            err,
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "images",
            "--images",
            images.toString(),
            "--model",
            model.toString(),
            "--per-class",
            "4",
            "--seed",
            "3",
            "--name",
            "generated");
    assertEquals(0, code, "stderr: " + err + "\nstdout: " + out);
    org.apache.hadoop.fs.Path file = store.path("synthetic/generated.parquet");
    assertTrue(
        out.toString(StandardCharsets.UTF_8)
            .startsWith(
                "Wrote "
                    + file
                    + ": 12 rows, 4 per class for 3 of 3 classes, source images, seed 3"),
        out.toString(StandardCharsets.UTF_8));
    SyntheticTable.Table table = SyntheticTable.read(file, new Configuration());
    assertEquals("images", table.provenance().getSource());
    assertEquals(images.toString(), table.provenance().getParameters().get("images"));
    assertEquals("green,red,texture", table.provenance().getParameters().get("classes"));
    assertEquals("6", table.provenance().getParameters().get("distinct-images"));
    assertEquals(12, table.data().size());
    for (int i = 0; i < 12; i++) {
      int c = table.data().label(i);
      assertEquals(i / 4, c, "class order");
      if (c < 2) { // green (one image, cycled) and red (three images of one colour)
        assertArrayEquals(
            expectedSolid(c == 0 ? GREEN : RED),
            java.util.Arrays.copyOfRange(
                table.data().features(), i * DIMENSION, (i + 1) * DIMENSION),
            TOLERANCE,
            "row " + i);
      }
    }

    // a folder whose classes do not match the federation's: the error names the folder, nothing is
    // written
    Files.createDirectories(images.resolve("blue"));
    png(solid(50, 50, 0x0000ff), images.resolve("blue/b.png"));
    spark();
    ByteArrayOutputStream err2 = new ByteArrayOutputStream();
    code =
        run(
            new ByteArrayOutputStream(),
            err2,
            "synthesize",
            "--store",
            storeUri,
            "--source",
            "images",
            "--images",
            images.toString(),
            "--model",
            model.toString(),
            "--per-class",
            "4",
            "--name",
            "four-classes");
    assertEquals(2, code);
    assertEquals(
        "fedlake synthesize: "
            + images
            + ": holds 4 class folder(s), but the federation in "
            + store.root()
            + " has 3 classes\n",
        err2.toString(StandardCharsets.UTF_8));
    assertFalse(Files.exists(dir.resolve("store/synthetic/four-classes.parquet")));
  }
}
