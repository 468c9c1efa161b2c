package fedlake.encoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import fedlake.core.InvalidInputException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loads a TorchScript encoder that the test writes itself ({@link TinyTorchScript}: 2x2 quadrant
 * means and a seeded linear map to 8 values) through DJL's PyTorch engine, the path a real CLIP
 * export takes, and checks its embeddings against the answer computed by hand.
 */
class ImageEncoderTest {
  private static final int DIMENSION = 8;

  /** libtorch averages each 112 x 112 quadrant in float32; the hand answer is exact to 1e-7. */
  private static final float TOLERANCE = 2e-4f;

  @TempDir static Path dir;
  private static TinyTorchScript tiny;
  private static Path modelFile;
  private static ImageEncoder encoder;

  @BeforeAll
  static void load() throws IOException {
    tiny = TinyTorchScript.quadrantLinear(DIMENSION, 42);
    modelFile = dir.resolve("model/tiny.pt");
    Files.createDirectories(modelFile.getParent());
    tiny.save(modelFile);
    encoder = ImageEncoder.load(EncoderSettings.of(modelFile.toString()).withBatchSize(2));
  }

  @AfterAll
  static void close() {
    encoder.close();
  }

  /**
   * normalise(W f + b) with f[channel * 4 + quadrant] the CLIP-normalised level of each quadrant.
   */
  private static float[] expected(int topLeft, int topRight, int bottomLeft, int bottomRight) {
    int[] quadrant = {topLeft, topRight, bottomLeft, bottomRight};
    float[] features = new float[12];
    for (int c = 0; c < 3; c++) {
      for (int q = 0; q < 4; q++) {
        features[c * 4 + q] = TestImages.normalised(TestImages.channel(quadrant[q], c), c);
      }
    }
    float[] weight = tiny.parameter("weight");
    float[] bias = tiny.parameter("bias");
    float[] out = new float[DIMENSION];
    double norm = 0;
    for (int row = 0; row < DIMENSION; row++) {
      double sum = bias[row];
      for (int k = 0; k < 12; k++) {
        sum += weight[row * 12 + k] * features[k];
      }
      out[row] = (float) sum;
      norm += sum * sum;
    }
    for (int row = 0; row < DIMENSION; row++) {
      out[row] = (float) (out[row] / Math.sqrt(norm));
    }
    return out;
  }

  @Test
  void solidColoursGiveTheHandComputedEmbedding() {
    Path red = TestImages.png(TestImages.solid(320, 240, 0xff0000), dir.resolve("img/red.png"));
    Path green = TestImages.png(TestImages.solid(100, 300, 0x00ff00), dir.resolve("img/green.png"));
    assertEquals(DIMENSION, encoder.dimension());
    assertArrayEquals(
        expected(0xff0000, 0xff0000, 0xff0000, 0xff0000), encoder.embed(red), TOLERANCE);
    assertArrayEquals(
        expected(0x00ff00, 0x00ff00, 0x00ff00, 0x00ff00), encoder.embed(green), TOLERANCE);
  }

  @Test
  void quadrantsKeepChannelRowAndColumnOrder() {
    Path image =
        TestImages.png(
            TestImages.quadrants(224, 0xff0000, 0x00ff00, 0x0000ff, 0x808080),
            dir.resolve("img/quad.png"));
    float[] embedding = encoder.embed(image);
    assertArrayEquals(expected(0xff0000, 0x00ff00, 0x0000ff, 0x808080), embedding, TOLERANCE);
    double norm = 0;
    for (float v : embedding) {
      norm += v * v;
    }
    assertEquals(1.0, norm, 1e-5);
  }

  @Test
  void batchesGiveTheSameAnswerAsSingleImages() {
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      files.add(
          TestImages.png(
              TestImages.pattern(150 + 40 * i, 200), dir.resolve("batch/p" + i + ".png")));
    }
    List<float[]> batched = encoder.embedFiles(files);
    assertEquals(5, batched.size());
    for (int i = 0; i < 5; i++) {
      assertArrayEquals(encoder.embed(files.get(i)), batched.get(i), 1e-6f, "image " + i);
    }
  }

  @Test
  void loadsFromFileAndHttpUrls() throws IOException {
    System.setProperty(ModelFiles.CACHE_PROPERTY, dir.resolve("cache").toString());
    Path red = TestImages.png(TestImages.solid(64, 64, 0xff0000), dir.resolve("img/red-small.png"));
    float[] want = expected(0xff0000, 0xff0000, 0xff0000, 0xff0000);
    try (ImageEncoder fromFileUrl =
        ImageEncoder.load(EncoderSettings.of(modelFile.toUri().toString()))) {
      assertArrayEquals(want, fromFileUrl.embed(red), TOLERANCE);
    }
    byte[] body = Files.readAllBytes(modelFile);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/models/",
        exchange -> {
          if (!exchange.getRequestURI().getPath().equals("/models/tiny.pt")) {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
            return;
          }
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/models/tiny.pt";
      try (ImageEncoder fromHttp = ImageEncoder.load(EncoderSettings.of(url))) {
        assertArrayEquals(want, fromHttp.embed(red), TOLERANCE);
      }
      String missing = "http://127.0.0.1:" + server.getAddress().getPort() + "/models/missing.pt";
      InvalidInputException e =
          assertThrows(
              InvalidInputException.class, () -> ImageEncoder.load(EncoderSettings.of(missing)));
      assertEquals(
          missing + ": cannot download encoder model (IOException: HTTP 404 Not Found)",
          e.getMessage());
    } finally {
      server.stop(0);
    }
  }

  @Test
  void sharedEncoderIsLoadedOncePerJvm() {
    EncoderSettings settings = EncoderSettings.of(modelFile.toString()).withBatchSize(7);
    ImageEncoder first = ImageEncoder.shared(settings, null);
    assertSame(first, ImageEncoder.shared(settings, null));
    first.close();
  }

  @Test
  void missingModelIsAClearError() {
    String missing = dir.resolve("nowhere/clip.pt").toString();
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class, () -> ImageEncoder.load(EncoderSettings.of(missing)));
    assertEquals(
        missing + ": cannot load encoder model: no such file or directory", e.getMessage());
  }

  @Test
  void fileThatIsNotAModelIsAClearError() throws IOException {
    Files.createDirectories(dir.resolve("bad"));
    Path garbage = Files.writeString(dir.resolve("bad/garbage.pt"), "not a TorchScript archive");
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> ImageEncoder.load(EncoderSettings.of(garbage.toString())));
    assertTrue(
        e.getMessage()
            .startsWith(
                garbage
                    + ": cannot load encoder model with the PyTorch engine (expects a TorchScript .pt file): "),
        e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
  }

  @Test
  void modelThatRejectsClipInputFailsAtLoad() throws IOException {
    // weight expects 5 features, the pooled image has 12
    Path wrong = dir.resolve("wrong/wrong.pt");
    Files.createDirectories(wrong.getParent());
    TinyTorchScript.quadrantLinear(new float[][] {{1, 2, 3, 4, 5}}, new float[] {0}).save(wrong);
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> ImageEncoder.load(EncoderSettings.of(wrong.toString())));
    assertTrue(
        e.getMessage()
            .startsWith(wrong + ": loaded, but running it on one 1x3x224x224 image failed: "),
        e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
  }

  @Test
  void onnxModelNeedsTheOnnxRuntimeEngine() throws IOException {
    Files.createDirectories(dir.resolve("onnx"));
    Path onnx = Files.writeString(dir.resolve("onnx/clip.onnx"), "an ONNX graph would be here");
    EncoderSettings settings = EncoderSettings.of(onnx.toString());
    assertEquals(EncoderSettings.ONNX_RUNTIME, settings.engine());
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> ImageEncoder.load(settings));
    assertEquals(
        onnx
            + ": cannot load encoder model: the OnnxRuntime engine is not on the classpath (engines present: [PyTorch, RPC]; "
            + "for .onnx models add ai.djl.onnxruntime:onnxruntime-engine, see docs/images.md)",
        e.getMessage());
  }
}
