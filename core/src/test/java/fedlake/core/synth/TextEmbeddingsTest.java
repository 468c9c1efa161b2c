package fedlake.core.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.data.Npy;
import fedlake.core.model.Head;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading class text embeddings, their errors, and the zero-shot head. */
class TextEmbeddingsTest {
  @TempDir Path dir;

  private final Configuration conf = new Configuration();

  @Test
  void npyRowsAreClassesAndShapeIsChecked() throws IOException {
    Path file = dir.resolve("text.npy");
    Npy.writeFloat32(file, new float[] {2, 0, 0, 0, 0, 5}, 2, 3);
    TextEmbeddings text = TextEmbeddings.read(file.toString(), conf);
    assertEquals(2, text.classCount());
    assertEquals(3, text.dimension());
    assertArrayEquals(new float[] {0, 0, 1}, text.row(1));
    InvalidInputException dimension =
        assertThrows(InvalidInputException.class, () -> text.requireShape(2, 512));
    assertEquals(
        file + ": text embeddings have dimension 3, the federation's embeddings have 512",
        dimension.getMessage());
    InvalidInputException classes =
        assertThrows(InvalidInputException.class, () -> text.requireShape(100, 3));
    assertEquals(
        file + ": text embeddings hold 2 classes, the federation has 100", classes.getMessage());
  }

  @Test
  void badValuesAreNamed() throws IOException {
    Path nan = dir.resolve("nan.npy");
    Npy.writeFloat32(nan, new float[] {1, 0, Float.NaN, 1}, 2, 2);
    assertEquals(
        nan + ": text embedding of class 1 has a non-finite value (NaN) at position 0",
        assertThrows(InvalidInputException.class, () -> TextEmbeddings.read(nan.toString(), conf))
            .getMessage());
    Path zero = dir.resolve("zero.npy");
    Npy.writeFloat32(zero, new float[] {0, 0, 1, 1}, 2, 2);
    assertEquals(
        zero + ": text embedding of class 0 is all zeros",
        assertThrows(InvalidInputException.class, () -> TextEmbeddings.read(zero.toString(), conf))
            .getMessage());
    Path vector = dir.resolve("vector.npy");
    Npy.writeInt32(vector, new int[] {1, 2, 3});
    assertEquals(
        vector
            + ": text embeddings must be a 2-dimensional array (classes x dimension), found shape [3]",
        assertThrows(
                InvalidInputException.class, () -> TextEmbeddings.read(vector.toString(), conf))
            .getMessage());
    assertEquals(
        dir.resolve("absent.npy") + ": no such file or directory",
        assertThrows(
                InvalidInputException.class,
                () -> TextEmbeddings.read(dir.resolve("absent.npy").toString(), conf))
            .getMessage());
  }

  @Test
  void parquetPromptVariantsAreAveraged() throws IOException {
    // class 0: (1, 0) and (0, 1) average to (1, 1)/sqrt(2); class 1: (0, 3) normalises to (0, 1)
    Dataset rows = Dataset.of("prompts", new float[] {1, 0, 0, 1, 0, 3}, new int[] {0, 0, 1}, 2);
    Path file = dir.resolve("prompts.parquet");
    DatasetFiles.writeParquet(rows, new org.apache.hadoop.fs.Path(file.toUri()), conf, "p");
    TextEmbeddings text = TextEmbeddings.read(file.toString(), conf);
    float s = (float) (1 / Math.sqrt(2));
    assertArrayEquals(new float[] {s, s, 0, 1}, text.values(), 1e-6f);
    Dataset gap = Dataset.of("gap", new float[] {1, 0, 0, 1}, new int[] {0, 2}, 2);
    Path gapFile = dir.resolve("gap.parquet");
    DatasetFiles.writeParquet(gap, new org.apache.hadoop.fs.Path(gapFile.toUri()), conf, "g");
    assertEquals(
        gapFile + ": no text embedding for classes [1] (labels run to 2)",
        assertThrows(
                InvalidInputException.class, () -> TextEmbeddings.read(gapFile.toString(), conf))
            .getMessage());
  }

  /**
   * The zero-shot head's argmax is cosine zero-shot classification, and its logits are 100 x
   * cosine.
   */
  @Test
  void zeroShotHeadIsCosineClassification() {
    int classes = 7;
    int d = 16;
    SplittableRandom random = new SplittableRandom(3);
    float[] t = new float[classes * d];
    for (int i = 0; i < t.length; i++) {
      t[i] = (float) Seeds.gaussian(random);
    }
    TextEmbeddings text = TextEmbeddings.of("t", t, classes, d);
    Head head = Bootstraps.zeroShot(text, 10f, 100);
    float[] x = new float[200 * d];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Seeds.gaussian(random);
    }
    Dataset images = Dataset.of("x", x, new int[200], d);
    double[] logits = new double[classes];
    for (int r = 0; r < 200; r++) {
      head.logits(images.features(), r * d, logits);
      int best = 0;
      int bestCosine = 0;
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        double cosine = 0;
        for (int j = 0; j < d; j++) {
          cosine += (double) images.features()[r * d + j] * text.values()[c * d + j];
        }
        assertEquals(100 * cosine, logits[c], 1e-3, "row " + r + " class " + c);
        if (cosine > max) {
          max = cosine;
          bestCosine = c;
        }
        if (logits[c] > logits[best]) {
          best = c;
        }
      }
      assertEquals(bestCosine, best, "row " + r);
    }
  }
}
