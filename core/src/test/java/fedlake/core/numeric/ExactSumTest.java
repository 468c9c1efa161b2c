package fedlake.core.numeric;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ExactSumTest {
  @Test
  void sumsWeightedFloatsExactly() {
    ExactSum sum = new ExactSum(3);
    sum.add(0, 0.1f, 3);
    sum.add(0, 0.2f, 1);
    sum.add(1, -2.5f, 4);
    sum.add(1, 0.75f, 2);
    sum.add(2, 1e4f, (1L << 39) - 1);
    assertEquals(3.0 * 0.1f + 0.2f, sum.get(0), 0.0);
    assertEquals(-8.5, sum.get(1), 0.0);
    assertEquals(1e4 * ((1L << 39) - 1), sum.get(2), 0.0);
  }

  @Test
  void carriesAcrossTheFractionWordBothWays() {
    ExactSum sum = new ExactSum(2);
    for (int i = 0; i < 4; i++) {
      sum.add(0, 0.75f, 1);
    }
    assertEquals(3.0, sum.get(0), 0.0);
    sum.add(1, -0.75f, 1);
    sum.add(1, 0.25f, 1);
    assertEquals(-0.5, sum.get(1), 0.0);
    sum.add(1, 0.5f, 1);
    assertEquals(0.0, sum.get(1), 0.0);
    sum.add(1, -3.0f, 5);
    sum.add(1, 0.125f, 7);
    assertEquals(-15 + 0.875, sum.get(1), 0.0);
  }

  @Test
  void keepsSixtyFourFractionBitsAndTruncatesBelow() {
    ExactSum sum = new ExactSum(3);
    sum.add(0, 0x1p-64f, 1);
    sum.add(1, 0x1p-70f, 1000);
    sum.add(2, Float.MIN_VALUE, 1);
    assertEquals(0x1p-64, sum.get(0), 0.0);
    // the term 1000 x 2^-70 is formed exactly, then its bits below 2^-64 are dropped: floor(1000 /
    // 64) = 15
    assertEquals(15 * 0x1p-64, sum.get(1), 0.0);
    assertEquals(0.0, sum.get(2), 0.0);
  }

  @Test
  void mergeEqualsAddingEverythingToOneSum() {
    ExactSum left = new ExactSum(2);
    ExactSum right = new ExactSum(2);
    ExactSum all = new ExactSum(2);
    float[] values = {0.3f, -7.25f, 1e-5f, 123.456f, -0.001f};
    for (int i = 0; i < values.length; i++) {
      (i % 2 == 0 ? left : right).add(0, values[i], i + 1);
      (i % 2 == 0 ? right : left).add(1, -values[i], 2 * i + 1);
      all.add(0, values[i], i + 1);
      all.add(1, -values[i], 2 * i + 1);
    }
    left.merge(right);
    assertEquals(Double.doubleToLongBits(all.get(0)), Double.doubleToLongBits(left.get(0)));
    assertEquals(Double.doubleToLongBits(all.get(1)), Double.doubleToLongBits(left.get(1)));
  }

  @Test
  void rejectsNonFiniteValues() {
    ExactSum sum = new ExactSum(1);
    IllegalArgumentException nan =
        assertThrows(IllegalArgumentException.class, () -> sum.add(0, Float.NaN, 1));
    assertEquals("cannot sum a non-finite value: NaN", nan.getMessage());
    IllegalArgumentException infinite =
        assertThrows(IllegalArgumentException.class, () -> sum.add(0, Float.NEGATIVE_INFINITY, 1));
    assertEquals("cannot sum a non-finite value: -Infinity", infinite.getMessage());
  }

  @Test
  void rejectsWeightsOutsideTheExactRange() {
    ExactSum sum = new ExactSum(1);
    IllegalArgumentException big =
        assertThrows(IllegalArgumentException.class, () -> sum.add(0, 1f, 1L << 39));
    assertEquals("weight must be in [0, 2^39), got 549755813888", big.getMessage());
    IllegalArgumentException negative =
        assertThrows(IllegalArgumentException.class, () -> sum.add(0, 1f, -1));
    assertEquals("weight must be in [0, 2^39), got -1", negative.getMessage());
  }

  @Test
  void refusesValuesThatOverflow() {
    ExactSum sum = new ExactSum(1);
    ArithmeticException e =
        assertThrows(ArithmeticException.class, () -> sum.add(0, Float.MAX_VALUE, 1));
    assertEquals("weighted value 3.4028235E38 x 1 overflows the 128-bit sum", e.getMessage());
  }

  @Test
  void refusesToMergeDifferentSizes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new ExactSum(2).merge(new ExactSum(3)));
    assertEquals("cannot merge sums of 3 and 2 parameters", e.getMessage());
  }

  @Test
  void addAllMatchesAddingOneByOneOverEveryKindOfFloat() {
    java.util.Random random = new java.util.Random(11);
    float[] values = new float[4000];
    for (int i = 0; i < values.length; i++) {
      values[i] =
          switch (i % 8) {
            case 0 -> (float) random.nextGaussian();
            case 1 -> -(float) random.nextGaussian() * 1e-3f;
            case 2 -> Float.intBitsToFloat(random.nextInt(0x7fffff) + 1); // subnormal
            case 3 ->
                (float)
                    (random.nextGaussian()
                        * 1e-25); // tiny: below the 2^-64 resolution after weighting
            case 4 -> (float) (random.nextGaussian() * 1e6);
            case 5 -> 0f;
            case 6 -> -0f;
            default -> (float) (random.nextGaussian() * 1e-12);
          };
    }
    for (long weight : new long[] {0, 1, 7, 1000, (1L << 39) - 1}) {
      ExactSum bulk = new ExactSum(values.length);
      ExactSum single = new ExactSum(values.length);
      for (int round = 0; round < 3; round++) {
        bulk.addAll(values, weight);
        for (int i = 0; i < values.length; i++) {
          single.add(i, values[i], weight);
        }
      }
      for (int i = 0; i < values.length; i++) {
        assertEquals(single.get(i), bulk.get(i), 0.0, "value " + values[i] + " weight " + weight);
      }
    }
  }

  /**
   * addAll (eight values at a time in the Vector API when the JVM has the module, as core's tests
   * do) and the scalar loop give the same sums bit for bit, for every kind of float: normal values
   * across the whole exponent range, zeros, subnormals, values whose lowest bits fall below the
   * fixed point, and lengths that leave a tail.
   */
  @Test
  void vectorAndScalarLoopsGiveTheSameSums() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(11);
    for (int length : new int[] {1, 7, 8, 9, 64, 1000, 1003}) {
      ExactSum blocks = new ExactSum(length);
      ExactSum scalar = new ExactSum(length);
      for (int update = 0; update < 40; update++) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
          values[i] =
              switch (random.nextInt(12)) {
                case 0 -> 0f;
                case 1 -> -0f;
                case 2 -> Float.MIN_VALUE * random.nextInt(1, 1000); // subnormal
                case 3 -> (float) (random.nextGaussian() * 1e-25); // bits below 2^-64
                case 4 -> (float) (random.nextGaussian() * 1e6);
                default -> (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-9, 2)));
              };
        }
        long weight = random.nextLong(1, 1L << 20);
        blocks.addAll(values, weight);
        scalar.addRange(values, weight, 0, length);
      }
      for (int i = 0; i < length; i++) {
        assertEquals(
            Double.doubleToRawLongBits(scalar.get(i)),
            Double.doubleToRawLongBits(blocks.get(i)),
            "length " + length + ", parameter " + i + " (vector path: " + ExactSum.VECTOR + ")");
        assertEquals(scalar.high[i], blocks.high[i]);
        assertEquals(scalar.middle[i], blocks.middle[i]);
        assertEquals(scalar.low[i], blocks.low[i]);
      }
    }
  }
}
