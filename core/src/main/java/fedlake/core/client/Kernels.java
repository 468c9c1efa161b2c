package fedlake.core.client;

import fedlake.core.numeric.VectorSupport;

/**
 * The batched arithmetic of the objectives. Every hot loop is a contiguous multiply-add over one
 * row, which HotSpot's C2 compiles to SIMD code, with no reductions across lanes and no calls
 * inside.
 *
 * <p>C2 (JDK 17) vectorises a loop over two arrays only when it can prove that they do not overlap
 * in a way that matters, which it can when both are indexed by the same expression; {@code out[o +
 * c] += a * m[row + c]} over one flat array is not vectorised (measured: 4 to 5 times slower). So
 * the batch side (logits, their gradients) is kept as one array per row, and rows of a flat
 * parameter vector are copied into small scratch rows before the loops read them.
 *
 * <p>When the JVM has {@code jdk.incubator.vector} ({@link #VECTOR}) the two products run in {@link
 * VectorKernels} instead, about three times faster.
 */
final class Kernels {
  private Kernels() {}

  /**
   * Whether the products run in {@link VectorKernels}: the JVM runs with {@code --add-modules
   * jdk.incubator.vector} (for the edge runner: {@code
   * JAVA_OPTS=--add-modules=jdk.incubator.vector}; for any {@code java}: {@code JDK_JAVA_OPTIONS}),
   * its vectors hold at least 8 floats, and the system property {@code fedlake.vector} is not
   * {@code false}. Otherwise the loops below, which C2 auto-vectorises.
   */
  static final boolean VECTOR = VectorSupport.usable(() -> VectorKernels.usable());

  /** Which kernels this JVM trains with, for the benchmark's report. */
  static String description() {
    return VECTOR
        ? "jdk.incubator.vector, fused multiply-adds"
        : "loops auto-vectorised by C2 (no --add-modules jdk.incubator.vector)";
  }

  /**
   * {@code out[r][c] += sum_j scale * x[r][j] * m[j][c]} for the {@code count} rows of {@code x}
   * ({@code count x depth}, row-major) and {@code m} ({@code depth x width}, row-major, from {@code
   * mOffset} of a flat vector). Four rows of m at a time are copied to {@code scratch} ({@code 4 x
   * >= width}) and added into every row of the block while they are in the L1 cache.
   */
  static void multiplyAdd(
      float[] x,
      int count,
      int depth,
      float scale,
      float[] m,
      int mOffset,
      int width,
      float[][] out,
      float[][] scratch) {
    if (VECTOR) {
      VectorKernels.multiplyAdd(x, count, depth, scale, m, mOffset, width, out);
    } else {
      multiplyAddLoops(x, count, depth, scale, m, mOffset, width, out, scratch);
    }
  }

  /** {@link #multiplyAdd} in loops that C2 auto-vectorises. */
  static void multiplyAddLoops(
      float[] x,
      int count,
      int depth,
      float scale,
      float[] m,
      int mOffset,
      int width,
      float[][] out,
      float[][] scratch) {
    float[] m0 = scratch[0];
    float[] m1 = scratch[1];
    float[] m2 = scratch[2];
    float[] m3 = scratch[3];
    int j = 0;
    for (; j + 4 <= depth; j += 4) {
      int row = mOffset + j * width;
      System.arraycopy(m, row, m0, 0, width);
      System.arraycopy(m, row + width, m1, 0, width);
      System.arraycopy(m, row + 2 * width, m2, 0, width);
      System.arraycopy(m, row + 3 * width, m3, 0, width);
      for (int r = 0; r < count; r++) {
        int xr = r * depth + j;
        float a0 = scale * x[xr];
        float a1 = scale * x[xr + 1];
        float a2 = scale * x[xr + 2];
        float a3 = scale * x[xr + 3];
        float[] o = out[r];
        for (int c = 0; c < width; c++) {
          o[c] += a0 * m0[c] + a1 * m1[c] + a2 * m2[c] + a3 * m3[c];
        }
      }
    }
    for (; j < depth; j++) {
      System.arraycopy(m, mOffset + j * width, m0, 0, width);
      for (int r = 0; r < count; r++) {
        float a = scale * x[r * depth + j];
        float[] o = out[r];
        for (int c = 0; c < width; c++) {
          o[c] += a * m0[c];
        }
      }
    }
  }

  /**
   * {@code out[j][c] = sum_r x[r][j] * g[r][c]} (overwriting; {@code out} row-major {@code depth x
   * width} from {@code outOffset} of a flat vector) for {@code x} ({@code count x depth}) and the
   * rows of g: one output row at a time, accumulated in {@code acc} over four rows of g per pass,
   * then copied out.
   */
  static void transposeTimes(
      float[] x,
      int count,
      int depth,
      float[][] g,
      int width,
      float[] out,
      int outOffset,
      float[] acc) {
    transposeTimes(x, count, depth, g, width, out, outOffset, acc, null);
  }

  /** Output rows handed to {@link Objective.Ready} at a time by the fused backward pass. */
  static final int READY_ROWS = 8;

  /**
   * As {@link #transposeTimes(float[], int, int, float[][], int, float[], int, float[])}, telling
   * {@code ready} (unless null) about every {@link #READY_ROWS} finished output rows while they are
   * still in the L1 cache, so that the step of those parameters runs before the next rows are
   * computed. The call stays outside the kernel's own method.
   */
  static void transposeTimes(
      float[] x,
      int count,
      int depth,
      float[][] g,
      int width,
      float[] out,
      int outOffset,
      float[] acc,
      Objective.Ready ready) {
    int block = ready == null ? depth : READY_ROWS;
    for (int j = 0; j < depth; j += block) {
      int end = Math.min(depth, j + block);
      transposeTimesRows(x, count, depth, g, width, out, outOffset, acc, j, end);
      if (ready != null) {
        ready.accept(outOffset + j * width, outOffset + end * width);
      }
    }
  }

  /** Output rows {@code [from, to)} of {@link #transposeTimes}, in the kernels of this JVM. */
  private static void transposeTimesRows(
      float[] x,
      int count,
      int depth,
      float[][] g,
      int width,
      float[] out,
      int outOffset,
      float[] acc,
      int from,
      int to) {
    if (VECTOR) {
      VectorKernels.transposeTimes(x, count, depth, g, width, out, outOffset, from, to);
    } else {
      transposeTimesLoops(x, count, depth, g, width, out, outOffset, acc, from, to);
    }
  }

  /**
   * Rows {@code [from, to)} of {@link #transposeTimes} in loops that C2 auto-vectorises. The first
   * pass over g assigns instead of adding to a zeroed {@code acc} (the same values: {@code 0 + s ==
   * s}).
   */
  static void transposeTimesLoops(
      float[] x,
      int count,
      int depth,
      float[][] g,
      int width,
      float[] out,
      int outOffset,
      float[] acc,
      int from,
      int to) {
    for (int j = from; j < to; j++) {
      int r = 0;
      if (count >= 4) {
        float a0 = x[j];
        float a1 = x[depth + j];
        float a2 = x[2 * depth + j];
        float a3 = x[3 * depth + j];
        float[] g0 = g[0];
        float[] g1 = g[1];
        float[] g2 = g[2];
        float[] g3 = g[3];
        for (int c = 0; c < width; c++) {
          acc[c] = a0 * g0[c] + a1 * g1[c] + a2 * g2[c] + a3 * g3[c];
        }
        r = 4;
      } else {
        java.util.Arrays.fill(acc, 0, width, 0f);
      }
      for (; r + 4 <= count; r += 4) {
        float a0 = x[r * depth + j];
        float a1 = x[(r + 1) * depth + j];
        float a2 = x[(r + 2) * depth + j];
        float a3 = x[(r + 3) * depth + j];
        float[] g0 = g[r];
        float[] g1 = g[r + 1];
        float[] g2 = g[r + 2];
        float[] g3 = g[r + 3];
        for (int c = 0; c < width; c++) {
          acc[c] += a0 * g0[c] + a1 * g1[c] + a2 * g2[c] + a3 * g3[c];
        }
      }
      for (; r < count; r++) {
        float a = x[r * depth + j];
        float[] gr = g[r];
        for (int c = 0; c < width; c++) {
          acc[c] += a * gr[c];
        }
      }
      System.arraycopy(acc, 0, out, outOffset + j * width, width);
    }
  }

  /**
   * Softmax cross-entropy of every row of {@code logits} after adding {@code adjustment} (null for
   * none): writes {@code (p - onehot(label)) * weight} into {@code dLogits} and returns the summed
   * loss. The softmax runs in double.
   */
  static double softmaxCrossEntropy(
      float[][] logits,
      int count,
      int classes,
      double[] adjustment,
      int[] labels,
      float weight,
      double[] row,
      float[][] dLogits) {
    double loss = 0;
    for (int r = 0; r < count; r++) {
      float[] z = logits[r];
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        double v = adjustment == null ? z[c] : z[c] + adjustment[c];
        row[c] = v;
        max = Math.max(max, v);
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        double e = Math.exp(row[c] - max);
        row[c] = e;
        sum += e;
      }
      double inverse = 1 / sum;
      int label = labels[r];
      float[] d = dLogits[r];
      for (int c = 0; c < classes; c++) {
        double p = row[c] * inverse;
        d[c] = (float) ((c == label ? p - 1 : p) * weight);
      }
      loss -= Math.log(row[label] * inverse);
    }
    return loss;
  }

  /** {@code out[outOffset + c] = sum_r g[r][c]}, accumulated in {@code acc}. */
  static void columnSums(
      float[][] g, int count, int width, float[] out, int outOffset, float[] acc) {
    System.arraycopy(g[0], 0, acc, 0, width);
    for (int r = 1; r < count; r++) {
      float[] gr = g[r];
      for (int c = 0; c < width; c++) {
        acc[c] += gr[c];
      }
    }
    System.arraycopy(acc, 0, out, outOffset, width);
  }

  /**
   * Sets each of the first {@code count} rows of {@code out} to {@code
   * values[offset..offset+width)}.
   */
  static void fillRows(float[][] out, int count, int width, float[] values, int offset) {
    for (int r = 0; r < count; r++) {
      System.arraycopy(values, offset, out[r], 0, width);
    }
  }

  /** {@code rows x width} rows (at least), for a batch. */
  static float[][] rows(int rows, int width) {
    return new float[rows][width];
  }

  /** Row-major {@code rows x columns} to row-major {@code columns x rows}. */
  static void transpose(
      float[] in, int inOffset, int rows, int columns, float[] out, int outOffset) {
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < columns; j++) {
        out[outOffset + j * rows + i] = in[inOffset + i * columns + j];
      }
    }
  }
}
