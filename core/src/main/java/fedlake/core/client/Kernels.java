package fedlake.core.client;

/**
 * The batched arithmetic of the objectives. Every hot loop is a contiguous multiply-add over one
 * row of a matrix (a "saxpy"), which HotSpot's C2 compiles to SIMD code; there are no reductions
 * across SIMD lanes and no calls inside the loops.
 */
final class Kernels {
  private Kernels() {}

  /**
   * {@code out[r][c] += sum_j scale * x[r][j] * m[j][c]} for the {@code count} rows of {@code x}
   * ({@code count x depth}, row-major) and {@code m} ({@code depth x width}, row-major): one row of m
   * at a time, added into every row of the block while it is in the L1 cache.
   */
  static void multiplyAdd(float[] x, int count, int depth, float scale, float[] m, int mOffset, int width, float[] out) {
    for (int j = 0; j < depth; j++) {
      int row = mOffset + j * width;
      for (int r = 0; r < count; r++) {
        float a = scale * x[r * depth + j];
        if (a == 0f) {
          continue;
        }
        int o = r * width;
        for (int c = 0; c < width; c++) {
          out[o + c] += a * m[row + c];
        }
      }
    }
  }

  /**
   * {@code out[j][c] = sum_r x[r][j] * g[r][c]} (overwriting) for {@code x} ({@code count x depth})
   * and {@code g} ({@code count x width}): the transposed block times g, one output row at a time.
   */
  static void transposeTimes(float[] x, int count, int depth, float[] g, int width, float[] out, int outOffset) {
    for (int j = 0; j < depth; j++) {
      int o = outOffset + j * width;
      float a0 = x[j];
      for (int c = 0; c < width; c++) {
        out[o + c] = a0 * g[c];
      }
      for (int r = 1; r < count; r++) {
        float a = x[r * depth + j];
        if (a == 0f) {
          continue;
        }
        int gr = r * width;
        for (int c = 0; c < width; c++) {
          out[o + c] += a * g[gr + c];
        }
      }
    }
  }

  /**
   * Softmax cross-entropy of every row of {@code logits} ({@code count x classes}) after adding
   * {@code adjustment} (null for none): writes {@code (p - onehot(label)) * weight} into
   * {@code dLogits} and returns the summed loss. The softmax runs in double.
   */
  static double softmaxCrossEntropy(float[] logits, int count, int classes, double[] adjustment, int[] labels, float weight,
      double[] row, float[] dLogits) {
    double loss = 0;
    for (int r = 0; r < count; r++) {
      int o = r * classes;
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        double z = adjustment == null ? logits[o + c] : logits[o + c] + adjustment[c];
        row[c] = z;
        max = Math.max(max, z);
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        double e = Math.exp(row[c] - max);
        row[c] = e;
        sum += e;
      }
      double inverse = 1 / sum;
      int label = labels[r];
      for (int c = 0; c < classes; c++) {
        double p = row[c] * inverse;
        dLogits[o + c] = (float) ((c == label ? p - 1 : p) * weight);
      }
      loss -= Math.log(row[label] * inverse);
    }
    return loss;
  }

  /** {@code out[c] = sum_r g[r][c]} over the {@code count x width} block g. */
  static void columnSums(float[] g, int count, int width, float[] out, int outOffset) {
    System.arraycopy(g, 0, out, outOffset, width);
    for (int r = 1; r < count; r++) {
      int gr = r * width;
      for (int c = 0; c < width; c++) {
        out[outOffset + c] += g[gr + c];
      }
    }
  }

  /** Fills every row of the {@code count x width} block {@code out} with {@code values[offset..offset+width)}. */
  static void fillRows(float[] out, int count, int width, float[] values, int offset) {
    for (int r = 0; r < count; r++) {
      System.arraycopy(values, offset, out, r * width, width);
    }
  }

  /** Row-major {@code rows x columns} to row-major {@code columns x rows}. */
  static void transpose(float[] in, int inOffset, int rows, int columns, float[] out, int outOffset) {
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < columns; j++) {
        out[outOffset + j * rows + i] = in[inOffset + i * columns + j];
      }
    }
  }
}
