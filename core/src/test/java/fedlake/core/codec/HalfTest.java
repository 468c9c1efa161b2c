package fedlake.core.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Half-float conversion against the IEEE 754 binary16 table. */
class HalfTest {
  private static void bits(int expected, float value) {
    assertEquals(
        expected,
        Half.fromFloat(value) & 0xffff,
        () ->
            value
                + " should be 0x"
                + Integer.toHexString(expected)
                + ", got 0x"
                + Integer.toHexString(Half.fromFloat(value) & 0xffff));
  }

  @Test
  void knownValuesHaveTheirTableBits() {
    bits(0x0000, 0f);
    bits(0x8000, -0f);
    bits(0x3c00, 1f);
    bits(0xc000, -2f);
    bits(0x3555, 1f / 3); // 0.333251953125, the nearest half
    bits(0x7bff, 65504f); // the largest half
    bits(0x0400, 0x1p-14f); // the smallest normal
    bits(0x0001, 0x1p-24f); // the smallest subnormal
    bits(0x03ff, 0x1p-14f - 0x1p-24f); // the largest subnormal
    bits(0x7c00, 65520f); // rounds up past the largest half: infinity
    bits(0x7c00, Float.POSITIVE_INFINITY);
    bits(0xfc00, Float.NEGATIVE_INFINITY);
    bits(0x0000, 0x1p-26f); // below half the smallest subnormal
  }

  @Test
  void tiesRoundToEven() {
    bits(0x3c00, 1f + 0x1p-11f); // halfway between 1 and 1 + 2^-10: stays on the even 1
    bits(0x3c02, 1f + 3 * 0x1p-11f); // halfway between odd 0x3c01 and even 0x3c02
    bits(0x0000, 0x1p-25f); // halfway between 0 and the smallest subnormal: even 0
    bits(0x0002, 3 * 0x1p-25f); // halfway between subnormals 1 and 2: even 2
    bits(0x3c01, 1f + 0x1p-11f + 0x1p-20f); // just above halfway: up
  }

  @Test
  void everyHalfRoundTripsExactlyAndNaNStaysNaN() {
    for (int h = 0; h < 0x10000; h++) {
      float value = Half.toFloat((short) h);
      if (Float.isNaN(value)) {
        assertTrue((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0, "only NaN patterns decode to NaN");
        assertTrue(Float.isNaN(Half.toFloat(Half.fromFloat(value))));
        continue;
      }
      assertEquals(h, Half.fromFloat(value) & 0xffff, "half 0x" + Integer.toHexString(h));
    }
  }

  @Test
  void conversionPicksTheNearestHalf() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(3);
    for (int i = 0; i < 100_000; i++) {
      // positive values (the sign is a separate bit), so the neighbours are one bit pattern away
      float x = (float) (random.nextDouble() * Math.pow(2, random.nextInt(-26, 16)));
      short bits = Half.fromFloat(x);
      float h = Half.toFloat(bits);
      float up = Half.toFloat((short) (bits + 1));
      float down = bits == 0 ? 0 : Half.toFloat((short) (bits - 1));
      double error = Math.abs((double) h - x);
      assertTrue(error <= Math.abs((double) up - x), x + " nearer its next half");
      assertTrue(error <= Math.abs((double) down - x), x + " nearer its previous half");
    }
  }
}
