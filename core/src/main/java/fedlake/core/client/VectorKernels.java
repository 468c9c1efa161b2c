package fedlake.core.client;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two products of {@link Kernels} written with {@code jdk.incubator.vector} (JDK 17's
 * incubating Vector API): four rows against two vectors of columns at a time, the sums kept in
 * registers over the whole inner dimension and combined with fused multiply-adds. C2 cannot do that
 * by itself (its loops load and store the output row at every step of the inner dimension). Columns
 * past the last whole vector are summed four at a time in 128-bit vectors, then (fewer than four)
 * in scalar code.
 *
 * <p>Every block is its own small method that takes and writes arrays, so that C2 inlines the
 * vector operations into it; a vector passed between methods that are not inlined would be boxed
 * (measured: three times slower than the C2 loops of {@link Kernels}).
 *
 * <p>Loaded only when the JVM runs with {@code --add-modules jdk.incubator.vector} ({@link
 * Kernels#VECTOR}); fused multiply-adds round once where the scalar loops round twice, so the two
 * give different last bits.
 */
final class VectorKernels {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int L = F.length();

  private VectorKernels() {}

  /** Whether the preferred vectors are wide enough to pay off (8 floats: AVX2, AVX-512, SVE). */
  static boolean usable() {
    return L >= 8;
  }

  /**
   * As {@link Kernels#softmaxCrossEntropy} without an adjustment, in float: the exponentials by the
   * vector {@code EXP} (within an ulp; a fortieth of the cost of {@code Math.exp} a logit), their
   * sum in float, the loss in double.
   */
  static double softmaxCrossEntropy(
      float[][] logits, int count, int classes, int[] labels, float weight, float[][] dLogits) {
    int vectorEnd = classes - classes % L;
    double loss = 0;
    for (int r = 0; r < count; r++) {
      float[] z = logits[r];
      float[] d = dLogits[r];
      float max = max(z, vectorEnd, classes);
      float sum = exponentials(z, max, d, vectorEnd, classes);
      scale(d, weight / sum, vectorEnd, classes);
      int label = labels[r];
      d[label] -= weight;
      loss += Math.log(sum) - (z[label] - max);
    }
    return loss;
  }

  private static float max(float[] z, int vectorEnd, int classes) {
    FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
    for (int c = 0; c < vectorEnd; c += L) {
      m = m.max(FloatVector.fromArray(F, z, c));
    }
    float max = m.reduceLanes(VectorOperators.MAX);
    for (int c = vectorEnd; c < classes; c++) {
      max = Math.max(max, z[c]);
    }
    return max;
  }

  /** {@code d[c] = e^(z[c] - max)}; returns their sum. */
  private static float exponentials(float[] z, float max, float[] d, int vectorEnd, int classes) {
    FloatVector sums = FloatVector.zero(F);
    for (int c = 0; c < vectorEnd; c += L) {
      FloatVector e = FloatVector.fromArray(F, z, c).sub(max).lanewise(VectorOperators.EXP);
      e.intoArray(d, c);
      sums = sums.add(e);
    }
    float sum = sums.reduceLanes(VectorOperators.ADD);
    for (int c = vectorEnd; c < classes; c++) {
      float e = (float) Math.exp(z[c] - max);
      d[c] = e;
      sum += e;
    }
    return sum;
  }

  private static void scale(float[] d, float factor, int vectorEnd, int classes) {
    for (int c = 0; c < vectorEnd; c += L) {
      FloatVector.fromArray(F, d, c).mul(factor).intoArray(d, c);
    }
    for (int c = vectorEnd; c < classes; c++) {
      d[c] *= factor;
    }
  }

  /** As {@link Kernels#multiplyAdd}. */
  static void multiplyAdd(
      float[] x,
      int count,
      int depth,
      float scale,
      float[] m,
      int mOffset,
      int width,
      float[][] out) {
    int vectorEnd = width - width % L;
    boolean overlap = width >= L && vectorEnd < width;
    int r = 0;
    for (; r + 4 <= count; r += 4) {
      int c = 0;
      for (; c + 2 * L <= vectorEnd; c += 2 * L) {
        forward4x2(x, r * depth, depth, scale, m, mOffset + c, width, out, r, c);
      }
      for (; c < vectorEnd; c += L) {
        forward4x1(x, r * depth, depth, scale, m, mOffset + c, width, out, r, c, 0);
      }
      if (overlap) {
        // the block of the last L columns, keeping the ones from vectorEnd on
        forward4x1(
            x,
            r * depth,
            depth,
            scale,
            m,
            mOffset + width - L,
            width,
            out,
            r,
            width - L,
            vectorEnd - (width - L));
      } else {
        for (int k = 0; k < 4; k++) {
          forwardScalar(x, (r + k) * depth, depth, scale, m, mOffset, width, vectorEnd, out[r + k]);
        }
      }
    }
    for (; r < count; r++) {
      int c = 0;
      for (; c < vectorEnd; c += L) {
        forward1x1(x, r * depth, depth, scale, m, mOffset + c, width, out[r], c);
      }
      forwardScalar(x, r * depth, depth, scale, m, mOffset, width, vectorEnd, out[r]);
    }
  }

  private static void forward4x2(
      float[] x,
      int x0,
      int depth,
      float scale,
      float[] m,
      int at,
      int width,
      float[][] out,
      int r,
      int c) {
    int x1 = x0 + depth;
    int x2 = x1 + depth;
    int x3 = x2 + depth;
    FloatVector s00 = FloatVector.zero(F);
    FloatVector s01 = s00;
    FloatVector s10 = s00;
    FloatVector s11 = s00;
    FloatVector s20 = s00;
    FloatVector s21 = s00;
    FloatVector s30 = s00;
    FloatVector s31 = s00;
    for (int j = 0; j < depth; j++, at += width) {
      FloatVector w0 = FloatVector.fromArray(F, m, at);
      FloatVector w1 = FloatVector.fromArray(F, m, at + L);
      FloatVector a = FloatVector.broadcast(F, x[x0 + j]);
      s00 = w0.fma(a, s00);
      s01 = w1.fma(a, s01);
      a = FloatVector.broadcast(F, x[x1 + j]);
      s10 = w0.fma(a, s10);
      s11 = w1.fma(a, s11);
      a = FloatVector.broadcast(F, x[x2 + j]);
      s20 = w0.fma(a, s20);
      s21 = w1.fma(a, s21);
      a = FloatVector.broadcast(F, x[x3 + j]);
      s30 = w0.fma(a, s30);
      s31 = w1.fma(a, s31);
    }
    float[] o = out[r];
    FloatVector.fromArray(F, o, c).add(s00.mul(scale)).intoArray(o, c);
    FloatVector.fromArray(F, o, c + L).add(s01.mul(scale)).intoArray(o, c + L);
    o = out[r + 1];
    FloatVector.fromArray(F, o, c).add(s10.mul(scale)).intoArray(o, c);
    FloatVector.fromArray(F, o, c + L).add(s11.mul(scale)).intoArray(o, c + L);
    o = out[r + 2];
    FloatVector.fromArray(F, o, c).add(s20.mul(scale)).intoArray(o, c);
    FloatVector.fromArray(F, o, c + L).add(s21.mul(scale)).intoArray(o, c + L);
    o = out[r + 3];
    FloatVector.fromArray(F, o, c).add(s30.mul(scale)).intoArray(o, c);
    FloatVector.fromArray(F, o, c + L).add(s31.mul(scale)).intoArray(o, c + L);
  }

  /** Columns {@code [c + keepFrom, c + L)} of four rows (all L when {@code keepFrom} is 0). */
  private static void forward4x1(
      float[] x,
      int x0,
      int depth,
      float scale,
      float[] m,
      int at,
      int width,
      float[][] out,
      int r,
      int c,
      int keepFrom) {
    int x1 = x0 + depth;
    int x2 = x1 + depth;
    int x3 = x2 + depth;
    FloatVector s0 = FloatVector.zero(F);
    FloatVector s1 = s0;
    FloatVector s2 = s0;
    FloatVector s3 = s0;
    for (int j = 0; j < depth; j++, at += width) {
      FloatVector w = FloatVector.fromArray(F, m, at);
      s0 = w.fma(FloatVector.broadcast(F, x[x0 + j]), s0);
      s1 = w.fma(FloatVector.broadcast(F, x[x1 + j]), s1);
      s2 = w.fma(FloatVector.broadcast(F, x[x2 + j]), s2);
      s3 = w.fma(FloatVector.broadcast(F, x[x3 + j]), s3);
    }
    if (keepFrom == 0) {
      FloatVector.fromArray(F, out[r], c).add(s0.mul(scale)).intoArray(out[r], c);
      FloatVector.fromArray(F, out[r + 1], c).add(s1.mul(scale)).intoArray(out[r + 1], c);
      FloatVector.fromArray(F, out[r + 2], c).add(s2.mul(scale)).intoArray(out[r + 2], c);
      FloatVector.fromArray(F, out[r + 3], c).add(s3.mul(scale)).intoArray(out[r + 3], c);
      return;
    }
    float[] sums = new float[L];
    s0.intoArray(sums, 0);
    addKept(sums, scale, out[r], c, keepFrom);
    s1.intoArray(sums, 0);
    addKept(sums, scale, out[r + 1], c, keepFrom);
    s2.intoArray(sums, 0);
    addKept(sums, scale, out[r + 2], c, keepFrom);
    s3.intoArray(sums, 0);
    addKept(sums, scale, out[r + 3], c, keepFrom);
  }

  private static void addKept(float[] sums, float scale, float[] o, int c, int keepFrom) {
    for (int k = keepFrom; k < L; k++) {
      o[c + k] += scale * sums[k];
    }
  }

  private static void forward1x1(
      float[] x, int xr, int depth, float scale, float[] m, int at, int width, float[] o, int c) {
    FloatVector s = FloatVector.zero(F);
    for (int j = 0; j < depth; j++, at += width) {
      s = FloatVector.fromArray(F, m, at).fma(FloatVector.broadcast(F, x[xr + j]), s);
    }
    FloatVector.fromArray(F, o, c).add(s.mul(scale)).intoArray(o, c);
  }

  /** Columns {@code [from, width)} of one output row, in scalar code. */
  private static void forwardScalar(
      float[] x,
      int xr,
      int depth,
      float scale,
      float[] m,
      int mOffset,
      int width,
      int from,
      float[] o) {
    for (int c = from; c < width; c++) {
      float s = 0f;
      for (int j = 0, at = mOffset + c; j < depth; j++, at += width) {
        s = Math.fma(x[xr + j], m[at], s);
      }
      o[c] += scale * s;
    }
  }

  /**
   * Output rows {@code [from, to)} of {@link Kernels#transposeTimes}: {@code out[outOffset + j *
   * width + c] = sum_r x[r][j] * g[r][c]}, overwriting.
   */
  static void transposeTimes(
      float[] x,
      int count,
      int depth,
      float[][] g,
      int width,
      float[] out,
      int outOffset,
      int from,
      int to) {
    int vectorEnd = width - width % L;
    boolean overlap = width >= L && vectorEnd < width;
    int j = from;
    for (; j + 4 <= to; j += 4) {
      int o = outOffset + j * width;
      int c = 0;
      for (; c + 2 * L <= vectorEnd; c += 2 * L) {
        backward4x2(x, count, depth, g, j, c, width, out, o + c);
      }
      for (; c < vectorEnd; c += L) {
        backward4x1(x, count, depth, g, j, c, width, out, o + c, 0);
      }
      if (overlap) {
        // the block of the last L columns, writing the ones from vectorEnd on
        backward4x1(
            x, count, depth, g, j, width - L, width, out, o + width - L, vectorEnd - (width - L));
      } else {
        for (int k = 0; k < 4; k++) {
          backwardScalar(x, count, depth, g, j + k, vectorEnd, width, out, o + k * width);
        }
      }
    }
    for (; j < to; j++) {
      int o = outOffset + j * width;
      int c = 0;
      for (; c < vectorEnd; c += L) {
        backward1x1(x, count, depth, g, j, c, out, o + c);
      }
      backwardScalar(x, count, depth, g, j, vectorEnd, width, out, o);
    }
  }

  private static void backward4x2(
      float[] x, int count, int depth, float[][] g, int j, int c, int width, float[] out, int o) {
    FloatVector s00 = FloatVector.zero(F);
    FloatVector s01 = s00;
    FloatVector s10 = s00;
    FloatVector s11 = s00;
    FloatVector s20 = s00;
    FloatVector s21 = s00;
    FloatVector s30 = s00;
    FloatVector s31 = s00;
    for (int r = 0, xr = j; r < count; r++, xr += depth) {
      float[] gr = g[r];
      FloatVector v0 = FloatVector.fromArray(F, gr, c);
      FloatVector v1 = FloatVector.fromArray(F, gr, c + L);
      FloatVector a = FloatVector.broadcast(F, x[xr]);
      s00 = v0.fma(a, s00);
      s01 = v1.fma(a, s01);
      a = FloatVector.broadcast(F, x[xr + 1]);
      s10 = v0.fma(a, s10);
      s11 = v1.fma(a, s11);
      a = FloatVector.broadcast(F, x[xr + 2]);
      s20 = v0.fma(a, s20);
      s21 = v1.fma(a, s21);
      a = FloatVector.broadcast(F, x[xr + 3]);
      s30 = v0.fma(a, s30);
      s31 = v1.fma(a, s31);
    }
    s00.intoArray(out, o);
    s01.intoArray(out, o + L);
    s10.intoArray(out, o + width);
    s11.intoArray(out, o + width + L);
    s20.intoArray(out, o + 2 * width);
    s21.intoArray(out, o + 2 * width + L);
    s30.intoArray(out, o + 3 * width);
    s31.intoArray(out, o + 3 * width + L);
  }

  /**
   * Columns {@code [c + keepFrom, c + L)} of four output rows (all L when {@code keepFrom} is 0).
   */
  private static void backward4x1(
      float[] x,
      int count,
      int depth,
      float[][] g,
      int j,
      int c,
      int width,
      float[] out,
      int o,
      int keepFrom) {
    FloatVector s0 = FloatVector.zero(F);
    FloatVector s1 = s0;
    FloatVector s2 = s0;
    FloatVector s3 = s0;
    for (int r = 0, xr = j; r < count; r++, xr += depth) {
      FloatVector v = FloatVector.fromArray(F, g[r], c);
      s0 = v.fma(FloatVector.broadcast(F, x[xr]), s0);
      s1 = v.fma(FloatVector.broadcast(F, x[xr + 1]), s1);
      s2 = v.fma(FloatVector.broadcast(F, x[xr + 2]), s2);
      s3 = v.fma(FloatVector.broadcast(F, x[xr + 3]), s3);
    }
    if (keepFrom == 0) {
      s0.intoArray(out, o);
      s1.intoArray(out, o + width);
      s2.intoArray(out, o + 2 * width);
      s3.intoArray(out, o + 3 * width);
      return;
    }
    float[] sums = new float[L];
    s0.intoArray(sums, 0);
    System.arraycopy(sums, keepFrom, out, o + keepFrom, L - keepFrom);
    s1.intoArray(sums, 0);
    System.arraycopy(sums, keepFrom, out, o + width + keepFrom, L - keepFrom);
    s2.intoArray(sums, 0);
    System.arraycopy(sums, keepFrom, out, o + 2 * width + keepFrom, L - keepFrom);
    s3.intoArray(sums, 0);
    System.arraycopy(sums, keepFrom, out, o + 3 * width + keepFrom, L - keepFrom);
  }

  private static void backward1x1(
      float[] x, int count, int depth, float[][] g, int j, int c, float[] out, int o) {
    FloatVector s = FloatVector.zero(F);
    for (int r = 0, xr = j; r < count; r++, xr += depth) {
      s = FloatVector.fromArray(F, g[r], c).fma(FloatVector.broadcast(F, x[xr]), s);
    }
    s.intoArray(out, o);
  }

  /** Columns {@code [from, width)} of output row j (at {@code o}), in scalar code. */
  private static void backwardScalar(
      float[] x,
      int count,
      int depth,
      float[][] g,
      int j,
      int from,
      int width,
      float[] out,
      int o) {
    for (int c = from; c < width; c++) {
      float s = 0f;
      for (int r = 0; r < count; r++) {
        s = Math.fma(x[r * depth + j], g[r][c], s);
      }
      out[o + c] = s;
    }
  }
}
