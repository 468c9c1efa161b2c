package fedlake.core.strategy;

import static fedlake.core.strategy.StrategyTests.assertBits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The coordinate-wise rules against a reference that sorts every coordinate, on seeded rows with
 * many ties, over more than one block of coordinates; and the same bits for every order of rows.
 */
class RobustRulesTest {
  private static float[][] rows(int k, int p, long seed) {
    Random random = new Random(seed);
    float[][] rows = new float[k][p];
    for (float[] row : rows) {
      for (int j = 0; j < p; j++) {
        // a third of the values from a small set (ties), the rest spread over six decades
        row[j] =
            random.nextInt(3) == 0
                ? random.nextInt(5) - 2
                : (float) (random.nextGaussian() * Math.pow(10, random.nextInt(6) - 3));
      }
    }
    return rows;
  }

  private static float[] reference(float[][] rows, int trim, boolean median) {
    int k = rows.length;
    float[] out = new float[rows[0].length];
    float[] column = new float[k];
    for (int j = 0; j < out.length; j++) {
      for (int i = 0; i < k; i++) {
        column[i] = rows[i][j];
      }
      Arrays.sort(column);
      if (median) {
        out[j] =
            k % 2 == 1 ? column[k / 2] : (float) (((double) column[k / 2 - 1] + column[k / 2]) / 2);
      } else {
        // exact reference: the middle values summed in BigDecimal
        java.math.BigDecimal s = java.math.BigDecimal.ZERO;
        for (int i = trim; i < k - trim; i++) {
          s = s.add(new java.math.BigDecimal(column[i]));
        }
        out[j] = (float) (s.doubleValue() / (k - 2 * trim));
      }
    }
    return out;
  }

  @Test
  void trimmedMeanAndMedianMatchASortedReference() {
    int p = RobustRules.BLOCK * 2 + 77;
    for (int k : new int[] {1, 2, 3, 20, 37, 100}) {
      float[][] rows = rows(k, p, k);
      int trim = (int) Math.floor(0.2 * k);
      float[] trimmed = RobustRules.trimmedMean(rows, trim, new long[k]);
      float[] expected = reference(rows, trim, false);
      for (int j = 0; j < p; j++) {
        // the fixed-point sum truncates below 2^-30 of the largest value: at most an ulp off
        assertEquals(expected[j], trimmed[j], Math.ulp(expected[j]) + 1e-30f, "k " + k + " j " + j);
      }
      assertBits(reference(rows, 0, true), RobustRules.median(rows, 0, new long[k]));
    }
  }

  @Test
  void everyOrderOfRowsGivesTheSameBits() {
    int k = 23;
    float[][] rows = rows(k, 3000, 7);
    long[] counts = new long[k];
    float[] trimmed = RobustRules.trimmedMean(rows, 4, counts);
    float[] median = RobustRules.median(rows, 4, new long[k]);
    long total = Arrays.stream(counts).sum();
    assertEquals(2L * 4 * 3000, total);
    List<float[]> shuffled = new ArrayList<>(Arrays.asList(rows));
    Random random = new Random(11);
    for (int round = 0; round < 5; round++) {
      Collections.shuffle(shuffled, random);
      float[][] again = shuffled.toArray(float[][]::new);
      assertBits(trimmed, RobustRules.trimmedMean(again, 4, new long[k]));
      assertBits(median, RobustRules.median(again, 4, new long[k]));
    }
  }

  @Test
  void selectPutsTheNthKeyInPlace() {
    Random random = new Random(3);
    for (int n = 1; n < 300; n += 7) {
      long[] keys = new long[n];
      for (int i = 0; i < n; i++) {
        keys[i] = random.nextInt(50); // many equal keys
      }
      long[] sorted = keys.clone();
      Arrays.sort(sorted);
      for (int nth = 0; nth < n; nth += 3) {
        long[] work = keys.clone();
        RobustRules.select(work, 0, n, nth);
        assertEquals(sorted[nth], work[nth], "n " + n + " nth " + nth);
        for (int i = 0; i < nth; i++) {
          assertEquals(true, work[i] <= work[nth]);
        }
        for (int i = nth + 1; i < n; i++) {
          assertEquals(true, work[i] >= work[nth]);
        }
        long[] resorted = work.clone();
        Arrays.sort(resorted);
        assertArrayEquals(sorted, resorted);
      }
    }
  }
}
