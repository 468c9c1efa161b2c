package fedlake.core.numeric;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Distances#squaredDistanceIfWithin}'s lanes in the incubating Vector API: eight values at a
 * time, each lane the same double operations as the scalar loop (convert, subtract, multiply, add;
 * no fused multiply-add), so the lanes hold the same sums. Loaded only when the JVM runs with
 * {@code --add-modules jdk.incubator.vector}.
 */
final class VectorDistances {
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_256;
  private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_512;

  private VectorDistances() {}

  /** Whether this JVM's vectors hold eight doubles (else the scalar loop is as fast). */
  static boolean usable() {
    return DoubleVector.SPECIES_PREFERRED.length() >= 8;
  }

  /**
   * Adds the squared differences of the values up to the returned index (a multiple of eight) to
   * {@code lanes}; returns -1 as soon as a value is not finite or exceeds {@code limit}.
   */
  static int addLanes(float[] values, float[] reference, float limit, double[] lanes) {
    int upper = FLOATS.loopBound(values.length);
    DoubleVector sum = DoubleVector.zero(DOUBLES);
    FloatVector bound = FloatVector.broadcast(FLOATS, limit);
    boolean within = true;
    for (int i = 0; i < upper; i += 8) {
      FloatVector v = FloatVector.fromArray(FLOATS, values, i);
      // NaN compares false, so it is not within
      within &= v.abs().compare(VectorOperators.LE, bound).allTrue();
      DoubleVector d =
          ((DoubleVector) v.convertShape(VectorOperators.F2D, DOUBLES, 0))
              .sub(
                  (DoubleVector)
                      FloatVector.fromArray(FLOATS, reference, i)
                          .convertShape(VectorOperators.F2D, DOUBLES, 0));
      sum = sum.add(d.mul(d));
    }
    if (!within) {
      return -1;
    }
    sum.intoArray(lanes, 0);
    return upper;
  }
}
