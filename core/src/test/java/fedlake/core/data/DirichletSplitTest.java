package fedlake.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class DirichletSplitTest {
  /** 20 classes x 30 rows, classes interleaved. */
  private static int[] labels() {
    int[] labels = new int[600];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i % 20;
    }
    return labels;
  }

  private static double meanClassesPerSite(int[] labels, int[][] split) {
    double total = 0;
    for (int[] rows : split) {
      total += Arrays.stream(rows).map(r -> labels[r]).distinct().count();
    }
    return total / split.length;
  }

  @Test
  void assignsEveryRowExactlyOnceAndNoSiteIsEmpty() {
    int[] labels = labels();
    for (double alpha : new double[] {0.01, 0.1, 1, 100}) {
      for (long seed = 0; seed < 5; seed++) {
        int[][] split = DirichletSplit.split(labels, 10, alpha, seed);
        assertEquals(10, split.length);
        int[] seen = new int[labels.length];
        for (int[] rows : split) {
          assertTrue(rows.length > 0, "alpha " + alpha + " seed " + seed + ": a site got no rows");
          for (int i = 1; i < rows.length; i++) {
            assertTrue(rows[i - 1] < rows[i], "rows of a site must be ascending");
          }
          for (int row : rows) {
            seen[row]++;
          }
        }
        for (int row = 0; row < labels.length; row++) {
          assertEquals(1, seen[row], "alpha " + alpha + " seed " + seed + ": row " + row);
        }
      }
    }
  }

  @Test
  void sameSeedSameSplitOtherSeedOtherSplit() {
    int[] labels = labels();
    int[][] first = DirichletSplit.split(labels, 8, 0.5, 42);
    int[][] again = DirichletSplit.split(labels, 8, 0.5, 42);
    int[][] other = DirichletSplit.split(labels, 8, 0.5, 43);
    for (int s = 0; s < 8; s++) {
      assertArrayEquals(first[s], again[s]);
    }
    assertFalse(Arrays.deepEquals(first, other), "seeds 42 and 43 gave the same split");
  }

  @Test
  void smallAlphaGivesEachSiteFewClasses() {
    int[] labels = labels();
    double skewed = meanClassesPerSite(labels, DirichletSplit.split(labels, 10, 0.05, 3));
    double even = meanClassesPerSite(labels, DirichletSplit.split(labels, 10, 100, 3));
    assertTrue(
        skewed <= 5,
        "alpha 0.05: sites hold " + skewed + " of 20 classes on average, expected at most 5");
    assertTrue(
        even >= 19,
        "alpha 100: sites hold " + even + " of 20 classes on average, expected at least 19");
  }

  @Test
  void oneSiteGetsEverything() {
    int[][] split = DirichletSplit.split(new int[] {2, 0, 1, 0}, 1, 0.3, 9);
    assertArrayEquals(new int[] {0, 1, 2, 3}, split[0]);
  }

  @Test
  void rejectsBadArguments() {
    IllegalArgumentException sites =
        assertThrows(IllegalArgumentException.class, () -> DirichletSplit.split(labels(), 0, 1, 0));
    assertEquals("site count must be at least 1, got 0", sites.getMessage());
    IllegalArgumentException alpha =
        assertThrows(IllegalArgumentException.class, () -> DirichletSplit.split(labels(), 2, 0, 0));
    assertEquals("Dirichlet alpha must be positive, got 0.0", alpha.getMessage());
    IllegalArgumentException nan =
        assertThrows(
            IllegalArgumentException.class, () -> DirichletSplit.split(labels(), 2, Double.NaN, 0));
    assertEquals("Dirichlet alpha must be positive, got NaN", nan.getMessage());
    IllegalArgumentException rows =
        assertThrows(
            IllegalArgumentException.class, () -> DirichletSplit.split(new int[] {0, 1}, 3, 1, 0));
    assertEquals("Cannot split 2 labelled rows over 3 sites", rows.getMessage());
  }

  @Test
  void countsOnlyLabelledRowsWhenCheckingThereAreEnough() {
    int[] labels = {0, Dataset.UNLABELLED, Dataset.UNLABELLED, 1};
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DirichletSplit.split(labels, 3, 1, 0));
    assertEquals("Cannot split 2 labelled rows over 3 sites", e.getMessage());
  }
}
