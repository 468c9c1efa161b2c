package fedlake.core.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Draws from a pooled class Gaussian are defined by the stream: row by row, a standard normal for
 * every coordinate, then {@code mean + L z}, projected onto the unit sphere. The sampler computes
 * only the normals that a non-zero column of {@code L} reads; the rows must be those of the
 * definition.
 */
class ClassGaussianTest {
  private static final int DIMENSION = 12;

  /** Class 1 of a data set with 5 rows a class: rank at most 4 at d = 12, so most columns are 0. */
  private static ClassGaussian rankDeficient() {
    Dataset data = new GaussianClasses(3, DIMENSION, 1.0, 4).sample(5, 8, "few");
    ClassMoments moments =
        ClassMoments.of(data, 3, ClassMoments.Spread.COVARIANCE).stream()
            .filter(m -> m.classId() == 1)
            .findFirst()
            .orElseThrow();
    return new ClassGaussian(moments);
  }

  /** The definition, with every normal computed and every column of L summed in order. */
  private static float[] reference(ClassGaussian g, int count, SplittableRandom random) {
    int d = g.dimension();
    double[] l = g.factor();
    float[] rows = new float[count * d];
    for (int r = 0; r < count; r++) {
      double[] z = new double[d];
      for (int j = 0; j < d; j++) {
        z[j] = Seeds.gaussian(random);
      }
      for (int i = 0; i < d; i++) {
        double v = g.mean()[i];
        for (int j = 0; j <= i; j++) {
          if (l[i * (i + 1) / 2 + j] != 0) {
            v += l[i * (i + 1) / 2 + j] * z[j];
          }
        }
        rows[r * d + i] = (float) v;
      }
    }
    Seeds.normaliseRows(rows, d);
    return rows;
  }

  @Test
  void skippedNormalsLeaveTheDrawsOfTheDefinition() {
    ClassGaussian g = rankDeficient();
    long zeroColumns =
        IntStream.range(0, DIMENSION).filter(j -> g.factor()[j * (j + 1) / 2 + j] == 0).count();
    assertEquals(
        DIMENSION - 4,
        zeroColumns,
        "5 examples leave 4 directions of spread: the other 8 columns of L are zero");
    // 11 rows: one block of 8 and 3 single rows
    float[] drawn = g.sample(11, Seeds.forClass(9, 1));
    assertArrayEquals(reference(g, 11, Seeds.forClass(9, 1)), drawn);
    for (int r = 0; r < 11; r++) {
      double norm = 0;
      for (int j = 0; j < DIMENSION; j++) {
        norm += (double) drawn[r * DIMENSION + j] * drawn[r * DIMENSION + j];
      }
      assertEquals(1.0, norm, 1e-6, "row " + r + " is a unit embedding");
    }
    // the first 3 rows do not depend on how many are drawn
    assertArrayEquals(
        Arrays.copyOf(drawn, 3 * DIMENSION), g.sample(3, Seeds.forClass(9, 1)), "3 of 11 rows");
  }

  @Test
  void skippingAdvancesTheStreamLikeADraw() {
    SplittableRandom drawn = new SplittableRandom(5);
    SplittableRandom skipped = new SplittableRandom(5);
    Seeds.gaussian(drawn);
    Seeds.skipGaussian(skipped);
    assertEquals(Seeds.gaussian(drawn), Seeds.gaussian(skipped), 0.0);
  }
}
