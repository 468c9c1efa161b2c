package fedlake.core.codec;

/**
 * IEEE 754 binary16 ("half") conversion, round to nearest even, as Java 20's {@code
 * Float.floatToFloat16} does (Java 17 has none). Overflow gives infinity, NaN stays NaN.
 */
public final class Half {
  private Half() {}

  /** The half nearest {@code value}, as its 16 bits. */
  public static short fromFloat(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exponent = (bits >>> 23) & 0xff;
    int mantissa = bits & 0x7fffff;
    if (exponent == 0xff) { // infinity or NaN (a quiet NaN keeps a mantissa bit)
      return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0));
    }
    int unbiased = exponent - 127;
    if (unbiased > 15) {
      return (short) (sign | 0x7c00); // beyond the largest half: infinity
    }
    if (unbiased >= -14) { // a normal half: 10 mantissa bits kept, 13 rounded away
      int half = ((unbiased + 15) << 10) | (mantissa >>> 13);
      return (short) (sign | roundEven(half, mantissa & 0x1fff, 0x1000));
    }
    if (unbiased < -25) {
      return (short) sign; // below half the smallest subnormal: zero
    }
    // a subnormal half: value = m * 2^-24 with the implicit bit made explicit
    int full = mantissa | 0x800000;
    int shift = -unbiased - 1; // 14..24 bits rounded away
    int half = full >>> shift;
    int rest = full & ((1 << shift) - 1);
    return (short) (sign | roundEven(half, rest, 1 << (shift - 1)));
  }

  /**
   * {@code kept} plus one when the dropped bits {@code rest} are above half, or at half and odd.
   */
  private static int roundEven(int kept, int rest, int halfway) {
    return rest > halfway || (rest == halfway && (kept & 1) == 1) ? kept + 1 : kept;
  }

  /** The float a half's 16 bits stand for (exact: every half is a float). */
  public static float toFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float magnitude = mantissa * 0x1p-24f; // subnormal (or zero): exact in float
      return sign != 0 ? -magnitude : magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
  }
}
