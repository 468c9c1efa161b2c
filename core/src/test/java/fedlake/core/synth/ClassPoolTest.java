package fedlake.core.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Exact pooling of class statistics: hand-computed sites, the union of real splits, order
 * independence.
 */
class ClassPoolTest {
  /**
   * Site A holds (0, 0) and (2, 0); site B holds (4, 2). Written out: A: n 2, mean (1, 0),
   * covariance [[1, 0], [0, 0]]; B: n 1, mean (4, 2), covariance 0. Union {(0,0), (2,0), (4,2)}: n
   * 3, mean (2, 2/3), covariance (divide by 3): xx = (4 + 0 + 4) / 3 = 8/3, xy = (-2*-2/3 + 0*-2/3
   * + 2*4/3) / 3 = 4/3, yy = (4/9 + 4/9 + 16/9) / 3 = 8/9. The average of the two sites'
   * covariances would be [[0.5, 0], [0, 0]].
   */
  @Test
  void twoHandComputedSitesPoolToTheStatisticsOfTheirUnion() {
    ClassMoments a =
        new ClassMoments(7, 2, new double[] {1, 0}, new double[] {1, 0}, new double[] {1, 0, 0, 0});
    ClassMoments b =
        new ClassMoments(7, 1, new double[] {4, 2}, new double[] {0, 0}, new double[] {0, 0, 0, 0});
    ClassMoments pooled = new ClassPool(7, 2).add(a).add(b).result();
    assertEquals(7, pooled.classId());
    assertEquals(3, pooled.count());
    assertArrayEquals(new double[] {2, 2.0 / 3}, pooled.mean(), 1e-12);
    assertArrayEquals(new double[] {8.0 / 3, 8.0 / 9}, pooled.variance(), 1e-12);
    assertArrayEquals(
        new double[] {8.0 / 3, 4.0 / 3, 4.0 / 3, 8.0 / 9}, pooled.covariance(), 1e-12);
  }

  @Test
  void diagonalOnlyContributionKeepsTheVarianceAndDropsTheCovariance() {
    ClassMoments a =
        new ClassMoments(0, 2, new double[] {1, 0}, new double[] {1, 0}, new double[] {1, 0, 0, 0});
    ClassMoments b = new ClassMoments(0, 1, new double[] {4, 2}, new double[] {0, 0}, null);
    ClassPool pool = new ClassPool(0, 2).add(a).add(b);
    assertFalse(pool.hasCovariance());
    ClassMoments pooled = pool.result();
    assertNull(pooled.covariance());
    assertArrayEquals(new double[] {8.0 / 3, 8.0 / 9}, pooled.variance(), 1e-12);
    ClassPool reversed = new ClassPool(0, 2).add(b).add(a);
    assertFalse(reversed.hasCovariance());
    assertArrayEquals(pooled.variance(), reversed.result().variance(), 0.0);
  }

  /**
   * Statistics computed per site from a real split pool to the statistics computed on all rows at
   * once.
   */
  @Test
  void sitesOfASplitPoolToTheWholeDataSet() {
    Dataset all = new GaussianClasses(3, 6, 1.0, 11).sample(40, 12, "all");
    int[][] sites = {range(0, 50), range(50, 75), range(75, 120)};
    StatisticsPool pool = new StatisticsPool(6);
    for (int[] rows : sites) {
      pool.add(toFloats(ClassMoments.of(all.select(rows), 3, ClassMoments.Spread.COVARIANCE)));
    }
    List<ClassMoments> whole = ClassMoments.of(all, 3, ClassMoments.Spread.COVARIANCE);
    assertEquals(3, pool.contributions());
    for (ClassMoments expected : whole) {
      ClassMoments pooled = pool.result().get(expected.classId());
      assertEquals(expected.count(), pooled.count());
      // sites report float values, so agreement is to float precision
      assertArrayEquals(expected.mean(), pooled.mean(), 1e-6);
      assertArrayEquals(expected.variance(), pooled.variance(), 1e-6);
      assertArrayEquals(expected.covariance(), pooled.covariance(), 1e-6);
    }
  }

  @Test
  void poolingIsBitIdenticalInAnyOrderAndMerge() {
    Dataset all = new GaussianClasses(2, 5, 1.0, 21).sample(30, 22, "all");
    List<List<ClassMoments>> sites = new ArrayList<>();
    for (int s = 0; s < 6; s++) {
      sites.add(
          toFloats(
              ClassMoments.of(
                  all.select(range(s * 10, s * 10 + 10)), 2, ClassMoments.Spread.COVARIANCE)));
    }
    StatisticsPool inOrder = new StatisticsPool(5);
    sites.forEach(inOrder::add);
    List<List<ClassMoments>> shuffled = new ArrayList<>(sites);
    Collections.shuffle(shuffled, new Random(5));
    StatisticsPool left = new StatisticsPool(5);
    StatisticsPool right = new StatisticsPool(5);
    for (int i = 0; i < shuffled.size(); i++) {
      (i % 2 == 0 ? left : right).add(shuffled.get(i));
    }
    StatisticsPool merged = right.merge(left);
    for (int c = 0; c < 2; c++) {
      assertArrayEquals(inOrder.result().get(c).mean(), merged.result().get(c).mean(), 0.0);
      assertArrayEquals(
          inOrder.result().get(c).covariance(), merged.result().get(c).covariance(), 0.0);
      assertArrayEquals(inOrder.result().get(c).variance(), merged.result().get(c).variance(), 0.0);
    }
  }

  @Test
  void momentsOfADataSetAreKnown() {
    // class 0: (3, 4) and (0, 1) normalise to (0.6, 0.8) and (0, 1); class 2 absent; class 1: one
    // row (1, 0)
    Dataset data = Dataset.of("hand", new float[] {3, 4, 0, 1, 1, 0}, new int[] {0, 0, 1}, 2);
    List<ClassMoments> moments = ClassMoments.of(data, 3, ClassMoments.Spread.COVARIANCE);
    assertEquals(2, moments.size(), "classes without rows are left out");
    ClassMoments zero = moments.get(0);
    assertEquals(2, zero.count());
    assertArrayEquals(new double[] {0.3, 0.9}, zero.mean(), 1e-7);
    assertArrayEquals(new double[] {0.09, 0.01}, zero.variance(), 1e-7);
    assertArrayEquals(new double[] {0.09, -0.03, -0.03, 0.01}, zero.covariance(), 1e-7);
    assertTrue(moments.get(1).classId() == 1 && moments.get(1).count() == 1);
    assertArrayEquals(new double[] {0, 0}, moments.get(1).variance(), 0.0);
    assertNull(ClassMoments.of(data, 3, ClassMoments.Spread.VARIANCE).get(0).covariance());
  }

  private static List<ClassMoments> toFloats(List<ClassMoments> moments) {
    return moments.stream().map(m -> ClassMoments.fromAvro(m.toAvro())).toList();
  }

  private static int[] range(int from, int to) {
    return java.util.stream.IntStream.range(from, to).toArray();
  }
}
