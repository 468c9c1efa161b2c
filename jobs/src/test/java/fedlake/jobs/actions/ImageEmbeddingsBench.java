package fedlake.jobs.actions;

import static org.junit.jupiter.api.Assertions.assertEquals;

import fedlake.encoder.EncoderSettings;
import fedlake.encoder.ImageEncoder;
import fedlake.encoder.TinyTorchScript;
import fedlake.jobs.SparkTestBase;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Throughput of image embedding in local mode; not part of the default test run (the name does not
 * end in Test). Run: {@code mvn -o -q -pl jobs -am test -Dtest=ImageEmbeddingsBench
 * -Dsurefire.failIfNoSpecifiedTests=false}. Uses a synthetic encoder with the compute of CLIP
 * ViT-B/32 ({@link TinyTorchScript#patchMlp}) and the 8-output quadrant encoder, whose time is
 * almost all decoding and preprocessing.
 */
class ImageEmbeddingsBench extends SparkTestBase {
  private static final int CLASSES = 4;
  private static final int PER_CLASS = 24;

  @TempDir Path dir;

  @Test
  void imagesPerSecond() throws IOException {
    Path images = dir.resolve("images");
    List<Path> files = new ArrayList<>();
    for (int c = 0; c < CLASSES; c++) {
      for (int i = 0; i < PER_CLASS; i++) {
        Path file = images.resolve("class" + c + "/img" + i + ".jpg");
        Files.createDirectories(file.getParent());
        ImageIO.write(picture(640, 480, c * 100 + i), "jpg", file.toFile());
        files.add(file);
      }
    }
    Path clipSized = dir.resolve("patch-mlp.pt");
    TinyTorchScript.patchMlp(768, 12, 512, 1).save(clipSized);
    Path tiny = dir.resolve("tiny.pt");
    TinyTorchScript.quadrantLinear(8, 1).save(tiny);

    StringBuilder report = new StringBuilder();
    for (Path model : List.of(tiny, clipSized)) {
      EncoderSettings settings = EncoderSettings.of(model.toString()).withBatchSize(16);
      long start = System.nanoTime();
      ImageEncoder direct = ImageEncoder.load(settings);
      double load = (System.nanoTime() - start) / 1e9;
      direct.embedFiles(files.subList(0, 16)); // warm up
      start = System.nanoTime();
      direct.embedFiles(files);
      double seconds = (System.nanoTime() - start) / 1e9;
      direct.close();
      // first run loads the model on the executor; the second finds it loaded, as later tasks do
      ImageEmbeddings.Result cold =
          ImageEmbeddings.of(spark()).images(images.toString()).model(settings).execute();
      cold.rows().unpersist();
      ImageEmbeddings.Result warm =
          ImageEmbeddings.of(spark()).images(images.toString()).model(settings).execute();
      assertEquals(files.size(), warm.rowCount());
      warm.rows().unpersist();
      report.append(
          String.format(
              Locale.ROOT,
              "%s: load %.1f s; one JVM thread %.1f images/s; Spark local[2] %.1f images/s with model load, %.1f images/s loaded (%d images, %.1f s)%n",
              model.getFileName(),
              load,
              files.size() / seconds,
              cold.imagesPerSecond(),
              warm.imagesPerSecond(),
              warm.images(),
              warm.seconds()));
    }
    System.out.print(report);
  }

  private static BufferedImage picture(int width, int height, int seed) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int r = (x * 3 + seed * 11) & 255;
        int g = (y * 2 + seed * 7) & 255;
        int b = ((x ^ y) + seed) & 255;
        image.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    return image;
  }
}
