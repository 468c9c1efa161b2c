package fedlake.encoder;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Small images the tests draw and write themselves. Colours are 0xRRGGBB. */
final class TestImages {
  private TestImages() {}

  static BufferedImage solid(int width, int height, int rgb) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, rgb);
      }
    }
    return image;
  }

  /** Four equal quadrants: top-left, top-right, bottom-left, bottom-right. */
  static BufferedImage quadrants(
      int side, int topLeft, int topRight, int bottomLeft, int bottomRight) {
    BufferedImage image = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        boolean top = y < side / 2;
        boolean left = x < side / 2;
        image.setRGB(x, y, top ? (left ? topLeft : topRight) : (left ? bottomLeft : bottomRight));
      }
    }
    return image;
  }

  /** Rows [0, edge) and [height - edge, height) in {@code outer}, the rest in {@code inner}. */
  static BufferedImage bands(int width, int height, int edge, int outer, int inner) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, y < edge || y >= height - edge ? outer : inner);
      }
    }
    return image;
  }

  /**
   * A busy pattern with sharp edges: r = (7x + 3y) mod 256, g = (x*x + y) mod 256, b = (x xor y)
   * mod 256.
   */
  static BufferedImage pattern(int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int r = (x * 7 + y * 3) % 256;
        int g = (x * x + y) % 256;
        int b = (x ^ y) & 255;
        image.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    return image;
  }

  static Path png(BufferedImage image, Path file) {
    try {
      Files.createDirectories(file.getParent());
      if (!ImageIO.write(
          image, file.getFileName().toString().endsWith(".png") ? "png" : "jpg", file.toFile())) {
        throw new IllegalStateException("no ImageIO writer for " + file);
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** CLIP's normalised value of the 8-bit level {@code level} in channel {@code channel}. */
  static float normalised(int level, int channel) {
    return (level / 255f - ClipPreprocessor.MEAN[channel]) / ClipPreprocessor.STD[channel];
  }

  static int channel(int rgb, int channel) {
    return (rgb >> (16 - 8 * channel)) & 0xff;
  }
}
