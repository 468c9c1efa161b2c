package fedlake.core.numeric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class DistancesTest {
  @Test
  void knownDistances() {
    // (3 - 0)^2 + (4 - 0)^2, and 1^2 * 9 + 0.5^2 across the lanes and the tail
    assertEquals(
        25.0, Distances.squaredDistanceIfWithin(new float[] {3, 4}, new float[] {0, 0}, 10f));
    float[] values = new float[10];
    float[] reference = new float[10];
    java.util.Arrays.fill(values, 2f);
    java.util.Arrays.fill(reference, 1f);
    values[9] = 1.5f;
    assertEquals(9.25, Distances.squaredDistanceIfWithin(values, reference, 2f));
  }

  @Test
  void aValueOverTheLimitOrNotFiniteGivesNaN() {
    float[] reference = new float[20];
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, -2.0001f, 3f}) {
      for (int at : new int[] {0, 7, 8, 15, 19}) {
        float[] values = new float[20];
        values[at] = bad;
        assertTrue(
            Double.isNaN(Distances.squaredDistanceIfWithin(values, reference, 2f)),
            bad + " at " + at);
      }
    }
    // exactly at the limit is within
    float[] values = new float[20];
    values[19] = -2f;
    assertEquals(4.0, Distances.squaredDistanceIfWithin(values, reference, 2f));
  }

  @Test
  void vectorLanesEqualTheScalarLoopBitForBit() {
    Random random = new Random(5);
    for (int length : new int[] {0, 1, 7, 8, 9, 63, 64, 65, 1000, 51_300}) {
      float[] values = new float[length];
      float[] reference = new float[length];
      for (int i = 0; i < length; i++) {
        values[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3));
        reference[i] = (float) random.nextGaussian();
      }
      double both = Distances.squaredDistanceIfWithin(values, reference, 1e4f);
      assertEquals(
          Double.doubleToRawLongBits(Distances.scalarOnly(values, reference, 1e4f)),
          Double.doubleToRawLongBits(both),
          "length " + length + " (vector path: " + Distances.VECTOR + ")");
    }
  }

  @Test
  void lengthsMustMatch() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Distances.squaredDistanceIfWithin(new float[3], new float[2], 1f));
    assertEquals("3 values against a reference of 2", e.getMessage());
  }
}
