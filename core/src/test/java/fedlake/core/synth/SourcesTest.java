package fedlake.core.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Gaussian and text sources: factorisation, reproducibility per class, unit length, known
 * directions.
 */
class SourcesTest {
  @Test
  void choleskyOfAKnownMatrixAndOfASingularOne() {
    // [[4, 2], [2, 3]] = L L^T with L = [[2, 0], [1, sqrt(2)]], packed row by row: 2; 1, sqrt(2)
    assertArrayEquals(
        new double[] {2, 1, Math.sqrt(2)},
        ClassGaussian.cholesky(new double[] {4, 2, 2, 3}, 2),
        1e-12);
    // rank one: [[1, 1], [1, 1]] = (1, 1)(1, 1)^T; the second pivot is 0, its column stays zero
    assertArrayEquals(
        new double[] {1, 1, 0}, ClassGaussian.cholesky(new double[] {1, 1, 1, 1}, 2), 1e-12);
  }

  @Test
  void gaussianDrawsFollowTheCovarianceBeforeProjection() {
    // spread only along (1, 1, 0) around a mean far from the origin: every unit draw stays in the
    // plane z = 0
    ClassMoments m =
        new ClassMoments(
            0,
            10,
            new double[] {3, 0, 0},
            new double[] {0.01, 0.01, 0},
            new double[] {0.01, 0.01, 0, 0.01, 0.01, 0, 0, 0, 0});
    float[] rows = new ClassGaussian(m).sample(500, Seeds.forClass(1, 0));
    double sumX = 0;
    double sumY = 0;
    for (int r = 0; r < 500; r++) {
      assertEquals(0f, rows[r * 3 + 2], 0f, "no spread along z");
      assertEquals(1.0, Math.hypot(rows[r * 3], rows[r * 3 + 1]), 1e-6, "unit length");
      sumX += rows[r * 3];
      sumY += rows[r * 3 + 1];
    }
    assertEquals(1.0, sumX / 500, 1e-3, "draws hug the mean direction (1, 0, 0)");
    assertEquals(0.0, sumY / 500, 0.01);
  }

  @Test
  void aClassDrawsTheSameRowsWhateverTheOrderOfClasses() {
    Map<Integer, ClassMoments> pooled =
        Map.of(
            0, new ClassMoments(0, 5, new double[] {1, 0}, new double[] {0.1, 0.1}, null),
            1, new ClassMoments(1, 5, new double[] {0, 1}, new double[] {0.1, 0.1}, null));
    GaussianSource source = new GaussianSource(3, 2, pooled, 0, Map.of());
    float[] first = SyntheticTable.embeddings(source, 1, 4, 42).values();
    SyntheticTable.embeddings(source, 0, 4, 42);
    assertArrayEquals(first, SyntheticTable.embeddings(source, 1, 4, 42).values());
    assertNotEquals(
        java.util.Arrays.toString(first),
        java.util.Arrays.toString(SyntheticTable.embeddings(source, 1, 4, 43).values()));
    assertTrue(source.covers(0) && source.covers(1) && !source.covers(2));
    assertEquals("diagonal", source.parameters().get("covariance"));
  }

  @Test
  void textSourceWithoutNoiseRepeatsTheTextEmbedding() {
    TextEmbeddings text = TextEmbeddings.of("text.npy", new float[] {3, 4, 0, 0, 0, 2}, 2, 3);
    assertArrayEquals(new float[] {0.6f, 0.8f, 0}, text.row(0));
    ClassEmbeddings exact = SyntheticTable.embeddings(new TextSource(text, 0), 0, 3, 7);
    assertArrayEquals(new float[] {0.6f, 0.8f, 0, 0.6f, 0.8f, 0, 0.6f, 0.8f, 0}, exact.values());
    ClassEmbeddings noisy = SyntheticTable.embeddings(new TextSource(text, 0.3), 1, 50, 7);
    double cosine = 0;
    for (int r = 0; r < 50; r++) {
      float[] row = noisy.row(r);
      assertEquals(1.0, Math.sqrt(row[0] * row[0] + row[1] * row[1] + row[2] * row[2]), 1e-6);
      cosine += row[2] / 50.0;
    }
    // noise of length about 0.3 against a unit vector: mean cosine near 1 / sqrt(1 + 0.09), clearly
    // below 1
    assertTrue(cosine > 0.9 && cosine < 0.99, "mean cosine to the class text " + cosine);
    assertEquals(
        Map.of("text", "text.npy", "noise", "0.3"), new TextSource(text, 0.3).parameters());
  }
}
