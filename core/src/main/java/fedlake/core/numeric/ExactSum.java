package fedlake.core.numeric;

import java.io.Serializable;

/**
 * Per-parameter sums of {@code weight * value} (float values, integer weights) kept in 128-bit
 * fixed point with 64 fractional bits. Each term is converted on its own and integers add
 * associatively, so the sums do not depend on the order of terms or on how partial sums are merged:
 * the same updates always give the same model, whatever the file or partition order.
 *
 * <p>Memory is 24 bytes a parameter, independent of the number of terms. A term is exact when the
 * weight is below 2^39; fractions below 2^-64 of a term are truncated (toward zero).
 *
 * <p>The low 64 bits are kept as two sums of 32-bit halves, so adding a term needs no carry between
 * words (a carry is a data-dependent comparison per value); the halves are normalised when read,
 * and before they could overflow (2^31 terms).
 */
public final class ExactSum implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final int FRACTION_BITS = 64;
  private static final double TWO_POW_64 = 0x1p64;

  private static final long HALF = 0xffffffffL;
  private static final long NORMALISE_AFTER = 1L << 30;

  /**
   * Whether {@link #addAll} runs in {@link VectorSums} (the same integers, eight values at a time):
   * the JVM runs with {@code --add-modules jdk.incubator.vector}, its vectors hold eight longs, and
   * the system property {@code fedlake.vector} is not {@code false}. Otherwise a scalar loop.
   */
  public static final boolean VECTOR = VectorSupport.usable(() -> VectorSums.usable());

  final long[] high;
  final long[] middle; // sum of the terms' bits 32..63 of the low word
  final long[] low; // sum of the terms' bits 0..31 of the low word
  private long terms; // terms added to the halves since they were last normalised

  public ExactSum(int size) {
    high = new long[size];
    middle = new long[size];
    low = new long[size];
  }

  public int size() {
    return high.length;
  }

  /** Adds {@code weight * value} to parameter {@code index}. */
  public void add(int index, float value, long weight) {
    if (weight < 0 || weight >= (1L << 39)) {
      throw new IllegalArgumentException("weight must be in [0, 2^39), got " + weight);
    }
    int bits = Float.floatToRawIntBits(value);
    int exponentField = (bits >>> 23) & 0xff;
    if (exponentField == 0xff) {
      throw new IllegalArgumentException("cannot sum a non-finite value: " + value);
    }
    long mantissa = bits & 0x7fffff;
    int exponent;
    if (exponentField == 0) {
      exponent = -149; // subnormal: value = mantissa * 2^-149
    } else {
      mantissa |= 0x800000;
      exponent = exponentField - 150;
    }
    long magnitude = mantissa * weight; // < 2^63
    if (magnitude == 0) {
      return;
    }
    int shift = exponent + FRACTION_BITS;
    long hi;
    long lo;
    if (shift >= 64) {
      if (shift - 64 > Long.numberOfLeadingZeros(magnitude) - 2) {
        throw new ArithmeticException(
            "weighted value " + value + " x " + weight + " overflows the 128-bit sum");
      }
      hi = magnitude << (shift - 64);
      lo = 0;
    } else if (shift > 0) {
      hi = magnitude >>> (64 - shift);
      lo = magnitude << shift;
    } else if (shift == 0) {
      hi = 0;
      lo = magnitude;
    } else {
      hi = 0;
      lo = shift <= -64 ? 0 : magnitude >>> -shift;
    }
    if (bits < 0) { // negate the 128-bit magnitude
      lo = ~lo + 1;
      hi = ~hi + (lo == 0 ? 1 : 0);
    }
    addRaw(index, hi, lo);
  }

  /**
   * Adds {@code weight * values[i]} to parameter i for every i; {@code values} has {@link #size()}
   * entries.
   */
  public void addAll(float[] values, long weight) {
    if (values.length != high.length) {
      throw new IllegalArgumentException(
          "cannot add " + values.length + " values to a sum of " + high.length);
    }
    if (weight < 0 || weight >= (1L << 39)) {
      throw new IllegalArgumentException("weight must be in [0, 2^39), got " + weight);
    }
    int done = VECTOR ? VectorSums.addAll(this, values, weight) : 0;
    addRange(values, weight, done, values.length);
    counted(1);
  }

  /** The scalar {@link #addAll} for {@code values[from..to)}; does not count the term. */
  void addRange(float[] values, long weight, int from, int to) {
    long[] hiSums = high;
    long[] midSums = middle;
    long[] loSums = low;
    for (int i = from; i < to; i++) {
      int bits = Float.floatToRawIntBits(values[i]);
      int exponentField = (bits >>> 23) & 0xff;
      int shift =
          exponentField
              - 150
              + FRACTION_BITS; // position of the mantissa's lowest bit in the fixed point
      if (exponentField == 0 || exponentField == 0xff || shift <= 0 || shift >= 64) {
        add(i, values[i], weight); // zero, subnormal, non-finite, tiny or huge: the general path
        continue;
      }
      // normal value with 0 < shift < 64: signed product, sign-extending shifts give the two's
      // complement 128-bit term,
      // the same as negating the magnitude's (the magnitude's low part loses no bits here)
      long sign =
          bits >> 31; // 0 or -1: negate without a branch (signs of trained weights are a coin toss)
      long product = ((((bits & 0x7fffff) | 0x800000L) * weight) ^ sign) - sign;
      long lo = product << shift;
      long hi = product >> (64 - shift);
      hiSums[i] += hi;
      midSums[i] += lo >>> 32;
      loSums[i] += lo & HALF;
    }
  }

  /** Every sum divided by {@code total}, rounded once to float. */
  public float[] mean(long total) {
    float[] mean = new float[high.length];
    for (int i = 0; i < mean.length; i++) {
      mean[i] = (float) (get(i) / total);
    }
    return mean;
  }

  private void addRaw(int index, long hi, long lo) {
    high[index] += hi;
    middle[index] += lo >>> 32;
    low[index] += lo & HALF;
    counted(1);
  }

  /** Notes {@code count} more terms in the halves; normalises them before they could overflow. */
  private void counted(long count) {
    terms += count;
    if (terms >= NORMALISE_AFTER) {
      for (int i = 0; i < high.length; i++) {
        normalise(i);
      }
      terms = 0;
    }
  }

  /**
   * Moves the carries of the halves up: afterwards {@code low} and {@code middle} hold 32 bits
   * each.
   */
  private void normalise(int i) {
    long carry = low[i] >>> 32;
    low[i] &= HALF;
    middle[i] += carry;
    carry = middle[i] >>> 32;
    middle[i] &= HALF;
    high[i] += carry;
  }

  /** Adds every sum of {@code other} (same size) into this one. */
  public void merge(ExactSum other) {
    if (other.size() != size()) {
      throw new IllegalArgumentException(
          "cannot merge sums of " + other.size() + " and " + size() + " parameters");
    }
    for (int i = 0; i < high.length; i++) {
      other.normalise(i);
      high[i] += other.high[i];
      middle[i] += other.middle[i];
      low[i] += other.low[i];
    }
    other.terms = 0;
    counted(1);
  }

  /** The sum at {@code index}, rounded once to double. */
  public double get(int index) {
    normalise(index);
    long lowWord = (middle[index] << 32) | low[index];
    // high * 2^64 + unsigned(lowWord), scaled by 2^-64; both parts are exact in double for sums <
    // 2^53
    double unsignedLow = (lowWord >>> 1) * 2.0 + (lowWord & 1);
    return high[index] + unsignedLow / TWO_POW_64;
  }
}
