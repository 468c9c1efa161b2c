package fedlake.core.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Known answers for the pure clustering math: ARI, Hungarian matching, stable ids, random
 * projection.
 */
class ClusterMathTest {

  @Test
  void adjustedRandIndexMatchesHandComputedValues() {
    // a = [0,0,1,1], b = [0,0,1,2]: sum C(n_ij,2) = 1, rows 2, columns 1, C(4,2) = 6
    // expected = 2 * 1 / 6 = 1/3, max = 3/2, ARI = (1 - 1/3) / (3/2 - 1/3) = 4/7
    assertEquals(
        4.0 / 7, AdjustedRandIndex.of(new int[] {0, 0, 1, 1}, new int[] {0, 0, 1, 2}), 1e-12);
    // a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]: index 2, rows 6, columns 3, C(6,2) = 15
    // expected = 18/15 = 1.2, max = 4.5, ARI = 0.8 / 3.3
    assertEquals(
        0.8 / 3.3,
        AdjustedRandIndex.of(new int[] {0, 0, 0, 1, 1, 1}, new int[] {0, 0, 1, 1, 2, 2}),
        1e-12);
    // renaming the groups does not matter
    assertEquals(
        1.0, AdjustedRandIndex.of(new int[] {0, 0, 1, 1, 2}, new int[] {7, 7, 3, 3, 9}), 1e-12);
    // one cluster for all against three true groups: no better than chance
    assertEquals(
        0.0,
        AdjustedRandIndex.of(new int[] {0, 0, 0, 0, 0, 0}, new int[] {0, 0, 1, 1, 2, 2}),
        1e-12);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> AdjustedRandIndex.of(new int[2], new int[3]));
    assertEquals("partitions of different sizes: 2 and 3", e.getMessage());
  }

  @Test
  void hungarianFindsTheMinimumCostAssignment() {
    double[][] cost = {{4, 1, 3}, {2, 0, 5}, {3, 2, 2}};
    // optimum 1 + 2 + 2 = 5: row 0 -> column 1, row 1 -> column 0, row 2 -> column 2 (greedy would
    // take 0 first)
    assertArrayEquals(new int[] {1, 0, 2}, CentroidMatching.assign(cost));
    // more rows than columns: the costliest row is left out
    assertArrayEquals(
        new int[] {0, -1, 1}, CentroidMatching.assign(new double[][] {{0, 9}, {5, 5}, {9, 0}}));
    // more columns than rows
    assertArrayEquals(new int[] {2}, CentroidMatching.assign(new double[][] {{3, 2, 1}}));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CentroidMatching.assign(new double[][] {{1, Double.NaN}}));
    assertEquals("cost matrix holds a non-finite value NaN at (0, 1)", e.getMessage());
  }

  @Test
  void stableIdsFollowThePreviousCentresAndNewClustersGetFreshIds() {
    TreeMap<Integer, double[]> previous =
        new TreeMap<>(Map.of(5, new double[] {0, 0}, 7, new double[] {10, 10}));
    double[][] centres = {{10, 9}, {0, 1}, {20, 20}};
    int[] ids =
        CentroidMatching.stableIds(centres, new long[] {3, 4, 2}, previous, Set.of(), Set.of(5, 7));
    assertArrayEquals(new int[] {7, 5, 8}, ids);
  }

  @Test
  void firstClusteringReusesIdleModelsLargestClusterFirst() {
    int[] ids =
        CentroidMatching.stableIds(
            new double[][] {{0}, {1}, {2}},
            new long[] {2, 5, 3},
            new TreeMap<>(),
            Set.of(0),
            Set.of(0));
    assertArrayEquals(new int[] {2, 0, 1}, ids);
  }

  @Test
  void randomProjectionIsFixedBySeedAndKeepsAngles() {
    RandomProjection projection = new RandomProjection(128, 42);
    double[] a = new double[5000];
    double[] b = new double[5000];
    java.util.SplittableRandom random = new java.util.SplittableRandom(1);
    for (int i = 0; i < a.length; i++) {
      a[i] = random.nextDouble() - 0.5;
      b[i] = a[i] + (random.nextDouble() - 0.5);
    }
    double[] pa = projection.project(a);
    assertArrayEquals(
        pa, new RandomProjection(128, 42).project(a), 0.0, "same seed, same projection");
    assertTrue(
        Math.abs(pa[0] - new RandomProjection(128, 43).project(a)[0]) > 0,
        "another seed, another projection");
    double cosine = cosine(a, b);
    double projected = cosine(pa, projection.project(b));
    // JL: the cosine is kept within a few 1/sqrt(128) = 0.09
    assertEquals(cosine, projected, 0.15, "cosine " + cosine + " became " + projected);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new RandomProjection(0, 1));
    assertEquals("projection dimension must be in 1..4096, got 0", e.getMessage());
  }

  @Test
  void cachedSignMatrixProjectsExactlyAsTheStreamedOne() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(5);
    for (int dimension : new int[] {128, 100, 3}) {
      RandomProjection projection = new RandomProjection(dimension, 9);
      for (int length : new int[] {1, 513, 5000}) {
        double[] input = new double[length];
        for (int i = 0; i < length; i++) {
          input[i] = i % 7 == 0 ? 0 : random.nextGaussian() * Math.pow(10, random.nextInt(-8, 3));
        }
        double[] streamed = projection.projectStreamed(input);
        double scale = 1 / Math.sqrt(dimension);
        for (int k = 0; k < dimension; k++) {
          streamed[k] *= scale;
        }
        // twice: the first builds the matrix, the second reuses it
        assertArrayEquals(streamed, projection.project(input), 0.0, dimension + " x " + length);
        assertArrayEquals(streamed, projection.project(input), 0.0, dimension + " x " + length);
      }
    }
  }

  private static double cosine(double[] a, double[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  @Test
  void assignerDissolvesSmallClustersAndWeighsChoices() {
    Map<Integer, double[]> centres = Map.of(0, new double[] {0, 0}, 1, new double[] {10, 0});
    Map<Integer, Integer> stable = Map.of(4, 0, 6, 1); // raw 5 was too small
    Assigner assigner = new Assigner(centres, stable, 0.1);
    assertEquals(
        new Assigner.Decision(1, 1.0, Assigner.NEAREST),
        assigner.assign(new double[] {9, 0}, 6, null, false));
    assertEquals(
        new Assigner.Decision(1, 2.0, Assigner.MIN_SIZE),
        assigner.assign(new double[] {8, 0}, 5, null, false));
    // a choice close enough to its own cluster counts ...
    assertEquals(
        new Assigner.Decision(1, 5.2, Assigner.CHOICE),
        assigner.assign(new double[] {4.8, 0}, 4, 1, true));
    // ... unless it was made among identical models, or the chosen centre is too far
    assertEquals(
        new Assigner.Decision(0, 4.8, Assigner.NEAREST),
        assigner.assign(new double[] {4.8, 0}, 4, 1, false));
    assertEquals(
        new Assigner.Decision(0, 2.0, Assigner.NEAREST),
        assigner.assign(new double[] {2, 0}, 4, 1, true));
  }

  @Test
  void collapseIsReportedOnlyWhenProfilesSeparate() {
    ClusterEvents.Fit separable = new ClusterEvents.Fit("kmeans", 2, "fixed", null, 0.8);
    ClusterEvents.Outcome collapsed =
        ClusterEvents.of(
            3, Map.of(0, 10), Map.of(0, 7, 1, 3), Map.of(0, 1.5), separable, 0.25, 4, 0);
    assertTrue(collapsed.collapsed());
    assertEquals(java.util.List.of(1), collapsed.emptied());
    assertEquals("collapsed", collapsed.rows().get(0).getStatus());
    assertEquals(
        "clustering collapsed: all 10 sites fell into cluster 0 although the profiles separate into groups "
            + "(best silhouette 0.800 >= 0.25); the groups were merged (minimum cluster size 4)",
        collapsed.rows().get(0).getMessage());
    assertEquals("empty", collapsed.rows().get(1).getStatus());
    assertEquals(
        "cluster 1 is empty: it held 3 site(s) in the previous assignment and holds none in round 3",
        collapsed.rows().get(1).getMessage());
    assertEquals(2, collapsed.warnings().size());

    ClusterEvents.Fit blob = new ClusterEvents.Fit("kmeans", 2, "fixed", null, 0.1);
    ClusterEvents.Outcome one =
        ClusterEvents.of(3, Map.of(0, 10), Map.of(), Map.of(0, 1.5), blob, 0.25, 4, 0);
    assertEquals(false, one.collapsed());
    assertEquals("new", one.rows().get(0).getStatus());
    assertTrue(one.warnings().isEmpty());
  }
}
