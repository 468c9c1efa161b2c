package fedlake.core.numeric;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ExactSum#addAll}'s common case in the incubating Vector API: eight floats at a time turned
 * into the same 128-bit fixed-point terms (the same integer operations lane by lane, so the sums
 * are bit for bit those of the scalar loop). Loaded only when the JVM runs with {@code
 * --add-modules jdk.incubator.vector}; see {@link ExactSum#VECTOR}.
 */
final class VectorSums {
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_256;
  private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_512;
  private static final long HALF = 0xffffffffL;

  private VectorSums() {}

  /** Whether this JVM's vectors hold eight longs (else the scalar loop is as fast). */
  static boolean usable() {
    return LongVector.SPECIES_PREFERRED.length() >= 8;
  }

  /**
   * Adds {@code weight * values[i]} to {@code sum} for the values up to the returned index (a
   * multiple of eight); blocks of eight with a value off the fast path (zero, subnormal,
   * non-finite, or a mantissa bit outside the fixed point) go through {@link ExactSum#addRange}.
   */
  static int addAll(ExactSum sum, float[] values, long weight) {
    long[] high = sum.high;
    long[] middle = sum.middle;
    long[] low = sum.low;
    int upper = FLOATS.loopBound(values.length);
    for (int i = 0; i < upper; i += 8) {
      IntVector raw = FloatVector.fromArray(FLOATS, values, i).reinterpretAsInts();
      LongVector bits = (LongVector) raw.convertShape(VectorOperators.I2L, LONGS, 0);
      LongVector exponent = bits.lanewise(VectorOperators.LSHR, 23).and(0xff);
      // the scalar loop's fast path: 0 < exponent - 150 + 64 < 64 (which excludes zero,
      // subnormals, NaN and infinities)
      VectorMask<Long> slow =
          exponent.compare(VectorOperators.LE, 86).or(exponent.compare(VectorOperators.GE, 150));
      if (slow.anyTrue()) {
        sum.addRange(values, weight, i, i + 8);
        continue;
      }
      LongVector shift = exponent.sub(86);
      LongVector sign = bits.lanewise(VectorOperators.ASHR, 63);
      LongVector product =
          bits.and(0x7fffffL)
              .or(0x800000L)
              .mul(weight)
              .lanewise(VectorOperators.XOR, sign)
              .sub(sign);
      LongVector lo = product.lanewise(VectorOperators.LSHL, shift);
      LongVector hi = product.lanewise(VectorOperators.ASHR, shift.neg().add(64));
      LongVector.fromArray(LONGS, high, i).add(hi).intoArray(high, i);
      LongVector.fromArray(LONGS, middle, i)
          .add(lo.lanewise(VectorOperators.LSHR, 32))
          .intoArray(middle, i);
      LongVector.fromArray(LONGS, low, i).add(lo.and(HALF)).intoArray(low, i);
    }
    return upper;
  }
}
