package fedlake.encoder;

import fedlake.core.InvalidInputException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * CLIP's image preprocessing in plain Java, as OpenAI's {@code clip.load} builds it with
 * torchvision on PIL images: resize the shorter side to {@code size} with PIL's bicubic filter
 * (antialiased when shrinking), centre-crop {@code size x size}, RGB, scale to [0, 1], then
 * subtract {@link #MEAN} and divide by {@link #STD} per channel. The result is a {@code 3 x size x
 * size} array in channel, row, column order (CHW), ready to be stacked into an {@code N x 3 x size
 * x size} batch.
 *
 * <p>The resize reproduces PIL's fixed-point arithmetic, so for RGB images the result equals
 * torchvision's to float rounding. One difference: an alpha channel is dropped before resizing
 * rather than after.
 */
public final class ClipPreprocessor {
  /** CLIP's per-channel mean (R, G, B) of pixels scaled to [0, 1]. */
  public static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};

  /** CLIP's per-channel standard deviation (R, G, B). */
  public static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};

  /** Input side of CLIP ViT-B/32, ViT-B/16 and ViT-L/14. */
  public static final int DEFAULT_SIZE = 224;

  private final int size;

  public ClipPreprocessor(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("image size must be at least 1, got " + size);
    }
    this.size = size;
  }

  public ClipPreprocessor() {
    this(DEFAULT_SIZE);
  }

  /** Side of the square the images are cropped to. */
  public int size() {
    return size;
  }

  /** Number of floats in one preprocessed image: {@code 3 * size * size}. */
  public int valuesPerImage() {
    return 3 * size * size;
  }

  /** Decodes and preprocesses the image file {@code file}. */
  public float[] preprocess(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return preprocess(decode(in, file.toString()));
    } catch (IOException e) {
      throw new InvalidInputException(file.toString(), "cannot read image: " + e.getMessage(), e);
    }
  }

  /**
   * Decodes an image (PNG, JPEG, BMP, GIF: what ImageIO reads) from {@code in}; {@code name} names
   * it in errors.
   */
  public static BufferedImage decode(InputStream in, String name) {
    BufferedImage image;
    try {
      ImageIO.setUseCache(false);
      image = ImageIO.read(in);
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(
          name,
          "cannot decode image (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")",
          e);
    }
    if (image == null) {
      throw new InvalidInputException(
          name, "cannot decode image: content is not PNG, JPEG, BMP or GIF");
    }
    if (image.getWidth() < 1 || image.getHeight() < 1) {
      throw new InvalidInputException(
          name, "image has no pixels (" + image.getWidth() + "x" + image.getHeight() + ")");
    }
    return image;
  }

  /**
   * Resizes, crops and normalises {@code image}; returns {@code 3 * size * size} floats in CHW
   * order.
   */
  public float[] preprocess(BufferedImage image) {
    int width = image.getWidth();
    int height = image.getHeight();
    int[] argb = image.getRGB(0, 0, width, height, null, 0, width);
    // planes[c][y * width + x] in 0..255
    int[][] planes = new int[3][width * height];
    for (int i = 0; i < argb.length; i++) {
      planes[0][i] = (argb[i] >> 16) & 0xff;
      planes[1][i] = (argb[i] >> 8) & 0xff;
      planes[2][i] = argb[i] & 0xff;
    }
    int[] resized = resizedSize(width, height, size);
    int newWidth = resized[0];
    int newHeight = resized[1];
    for (int c = 0; c < 3; c++) {
      planes[c] = resize(planes[c], width, height, newWidth, newHeight);
    }
    // torchvision CenterCrop: int(round((h - size) / 2.0)) with Python's round-half-to-even
    int top = (int) Math.rint((newHeight - size) / 2.0);
    int left = (int) Math.rint((newWidth - size) / 2.0);
    float[] out = new float[3 * size * size];
    for (int c = 0; c < 3; c++) {
      float mean = MEAN[c];
      float std = STD[c];
      for (int y = 0; y < size; y++) {
        int source = (top + y) * newWidth + left;
        int target = c * size * size + y * size;
        for (int x = 0; x < size; x++) {
          out[target + x] = (planes[c][source + x] / 255f - mean) / std;
        }
      }
    }
    return out;
  }

  /**
   * torchvision's {@code Resize(size)} target for a {@code width x height} image: the shorter side
   * becomes {@code size}, the longer {@code int(size * long / short)}. Returns {width, height}.
   */
  static int[] resizedSize(int width, int height, int size) {
    if (width <= height) {
      return new int[] {size, (int) ((double) size * height / width)};
    }
    return new int[] {(int) ((double) size * width / height), size};
  }

  /**
   * PIL's separable bicubic resample (horizontal pass, then vertical) in PIL's own 22-bit fixed
   * point, so the result matches {@code Image.resize(..., BICUBIC)} exactly for 8-bit images.
   */
  static int[] resize(int[] plane, int width, int height, int newWidth, int newHeight) {
    int[] current = plane;
    int currentWidth = width;
    if (newWidth != width) {
      Kernel kernel = Kernel.of(width, newWidth);
      int[] next = new int[newWidth * height];
      for (int y = 0; y < height; y++) {
        int row = y * width;
        for (int x = 0; x < newWidth; x++) {
          int sum = ROUNDING;
          int start = kernel.start[x];
          int[] weights = kernel.weights[x];
          for (int k = 0; k < weights.length; k++) {
            sum += current[row + start + k] * weights[k];
          }
          next[y * newWidth + x] = clip8(sum);
        }
      }
      current = next;
      currentWidth = newWidth;
    }
    if (newHeight != height) {
      Kernel kernel = Kernel.of(height, newHeight);
      int[] next = new int[currentWidth * newHeight];
      for (int y = 0; y < newHeight; y++) {
        int start = kernel.start[y];
        int[] weights = kernel.weights[y];
        for (int x = 0; x < currentWidth; x++) {
          int sum = ROUNDING;
          for (int k = 0; k < weights.length; k++) {
            sum += current[(start + k) * currentWidth + x] * weights[k];
          }
          next[y * currentWidth + x] = clip8(sum);
        }
      }
      current = next;
    }
    return current;
  }

  /** Fixed-point precision of PIL's 8-bit resampler: 32 - 8 - 2 bits. */
  private static final int PRECISION_BITS = 22;

  private static final int ROUNDING = 1 << (PRECISION_BITS - 1);

  private static int clip8(int value) {
    int shifted = value >> PRECISION_BITS;
    return shifted < 0 ? 0 : Math.min(shifted, 255);
  }

  /** PIL's bicubic filter ({@code a = -0.5}, support 2), widened by the scale when shrinking. */
  static double bicubic(double x) {
    double a = -0.5;
    x = Math.abs(x);
    if (x < 1) {
      return ((a + 2) * x - (a + 3)) * x * x + 1;
    }
    if (x < 2) {
      return (((x - 5) * x + 8) * x - 4) * a;
    }
    return 0;
  }

  /**
   * Per output pixel: the first input pixel it reads and its fixed-point weights (PIL's
   * precompute_coeffs).
   */
  private record Kernel(int[] start, int[][] weights) {
    static Kernel of(int inSize, int outSize) {
      double scale = (double) inSize / outSize;
      double filterScale = Math.max(scale, 1.0);
      double support = 2.0 * filterScale;
      int[] start = new int[outSize];
      int[][] weights = new int[outSize][];
      for (int out = 0; out < outSize; out++) {
        double center = (out + 0.5) * scale;
        double inverse = 1.0 / filterScale;
        int min = Math.max((int) (center - support + 0.5), 0);
        int max = Math.min((int) (center + support + 0.5), inSize);
        double[] w = new double[max - min];
        double total = 0;
        for (int k = 0; k < w.length; k++) {
          w[k] = bicubic((k + min - center + 0.5) * inverse);
          total += w[k];
        }
        int[] fixed = new int[w.length];
        for (int k = 0; k < w.length; k++) {
          double normalised = total != 0 ? w[k] / total : w[k];
          fixed[k] =
              (int)
                  (normalised < 0
                      ? -0.5 + normalised * (1 << PRECISION_BITS)
                      : 0.5 + normalised * (1 << PRECISION_BITS));
        }
        start[out] = min;
        weights[out] = fixed;
      }
      return new Kernel(start, weights);
    }
  }
}
