package fedlake.encoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipPreprocessorTest {
  private final ClipPreprocessor clip = new ClipPreprocessor();

  /**
   * Reference values from Pillow 9.4 + numpy running CLIP's transform (Resize(224, BICUBIC) with
   * torchvision's size rule, CenterCrop(224), /255, Normalize) on {@link TestImages#pattern}:
   * per-channel means, then values at (channel, row, column) = (0,0,0), (1,100,37), (2,223,223),
   * (0,111,200).
   */
  @Test
  void matchesPillowOnShrinkingEnlargingAndCropping() {
    check(
        300,
        200,
        new double[] {0.07721325755119324, 0.15541070699691772, 0.41743752360343933},
        new double[] {
          -0.42001041769981384, -0.7765921354293823, -0.5985757112503052, -0.2594277560710907
        });
    check(
        640,
        480,
        new double[] {0.06930451840162277, 0.15930712223052979, 0.3367944061756134},
        new double[] {
          -1.0623412132263184, 0.5741070508956909, 1.932596206665039, 0.9230448007583618
        });
    check(
        150,
        100,
        new double[] {0.06287086009979248, 0.1516130119562149, -0.5347517132759094},
        new double[] {
          0.7332652807235718, 0.6341381072998047, -1.0393977165222168, 0.806257426738739
        });
    check(
        200,
        517,
        new double[] {0.060819994658231735, 0.15841609239578247, 0.3291955292224884},
        new double[] {
          1.4339896440505981, -0.8816465735435486, 0.8092109560966492, 1.5945723056793213
        });
  }

  private void check(int width, int height, double[] means, double[] samples) {
    float[] pixels = clip.preprocess(TestImages.pattern(width, height));
    assertEquals(3 * 224 * 224, pixels.length);
    int plane = 224 * 224;
    for (int c = 0; c < 3; c++) {
      double sum = 0;
      for (int i = 0; i < plane; i++) {
        sum += pixels[c * plane + i];
      }
      assertEquals(means[c], sum / plane, 1e-5, width + "x" + height + " channel " + c + " mean");
    }
    int[][] at = {{0, 0, 0}, {1, 100, 37}, {2, 223, 223}, {0, 111, 200}};
    for (int k = 0; k < at.length; k++) {
      assertEquals(
          samples[k],
          pixels[at[k][0] * plane + at[k][1] * 224 + at[k][2]],
          1e-6,
          width + "x" + height + " value at " + Arrays.toString(at[k]));
    }
  }

  @Test
  void torchvisionResizeRuleTruncatesTheLongerSide() {
    assertArrayEquals(new int[] {298, 224}, ClipPreprocessor.resizedSize(640, 480, 224));
    assertArrayEquals(new int[] {224, 579}, ClipPreprocessor.resizedSize(200, 517, 224));
    assertArrayEquals(new int[] {224, 224}, ClipPreprocessor.resizedSize(50, 50, 224));
  }

  @Test
  void solidColourGivesTheNormalisedLevelEverywhere() {
    int rgb = 0x336699;
    float[] pixels = clip.preprocess(TestImages.solid(500, 333, rgb));
    for (int c = 0; c < 3; c++) {
      float expected = TestImages.normalised(TestImages.channel(rgb, c), c);
      for (int i = c * 224 * 224; i < (c + 1) * 224 * 224; i++) {
        assertEquals(expected, pixels[i], 1e-6f, "channel " + c + " index " + i);
      }
    }
  }

  @Test
  void centreCropKeepsTheMiddleOfATallImage() {
    // 448 x 1200 shrinks to 224 x 600; the crop keeps rows 188..411, all inside the green band
    float[] pixels = clip.preprocess(TestImages.bands(448, 1200, 300, 0xff0000, 0x00ff00));
    float[] green = clip.preprocess(TestImages.solid(224, 224, 0x00ff00));
    assertArrayEquals(green, pixels, 1e-6f);
  }

  @Test
  void undecodableFileIsNamedWithTheReason(@TempDir Path dir) throws IOException {
    Path text = Files.writeString(dir.resolve("notes.png"), "this is not a PNG");
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> clip.preprocess(text));
    assertEquals(
        text + ": cannot decode image: content is not PNG, JPEG, BMP or GIF", e.getMessage());

    Path whole = TestImages.png(TestImages.pattern(64, 64), dir.resolve("whole.png"));
    byte[] bytes = Files.readAllBytes(whole);
    Path truncated =
        Files.write(dir.resolve("truncated.png"), Arrays.copyOf(bytes, bytes.length / 2));
    e = assertThrows(InvalidInputException.class, () -> clip.preprocess(truncated));
    assertTrue(e.getMessage().startsWith(truncated + ": cannot decode image ("), e.getMessage());
  }
}
