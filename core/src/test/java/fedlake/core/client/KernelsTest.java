package fedlake.core.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The two products of the training kernels against a plain double-precision sum, for both
 * implementations ({@link Kernels}' loops and {@link VectorKernels}) and for shapes that exercise
 * every block: whole vector pairs, a single vector, the overlapping last block, heads narrower than
 * a vector, and batches that are not a multiple of four rows.
 */
class KernelsTest {
  private static final int[][] SHAPES = {
    // count, depth, width
    {16, 512, 100}, {16, 24, 96}, {5, 9, 33}, {3, 7, 7}, {1, 13, 16}, {7, 6, 130}, {16, 8, 48}
  };

  private static float[] random(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) random.nextGaussian();
    }
    return v;
  }

  /** Largest |a - b| relative to the largest |b|. */
  private static double relative(double[] exact, float[] got, int from) {
    double error = 0;
    double size = 0;
    for (int i = 0; i < exact.length; i++) {
      error = Math.max(error, Math.abs(exact[i] - got[from + i]));
      size = Math.max(size, Math.abs(exact[i]));
    }
    return error / size;
  }

  private interface Forward {
    void run(
        float[] x,
        int count,
        int depth,
        float scale,
        float[] m,
        int offset,
        int width,
        float[][] out);
  }

  private interface Backward {
    void run(float[] x, int count, int depth, float[][] g, int width, float[] out, int offset);
  }

  private static void checkForward(Forward forward, String name) {
    for (int[] shape : SHAPES) {
      int count = shape[0];
      int depth = shape[1];
      int width = shape[2];
      float[] x = random(count * depth, 1);
      int offset = 5;
      float[] m = random(offset + depth * width + 3, 2); // something on either side of W^T
      float[][] out = new float[count][];
      double[] exact = new double[count * width];
      for (int r = 0; r < count; r++) {
        out[r] = random(width, 3 + r); // the products are added to what is there
        for (int c = 0; c < width; c++) {
          double s = 0;
          for (int j = 0; j < depth; j++) {
            s += (double) x[r * depth + j] * m[offset + j * width + c];
          }
          exact[r * width + c] = out[r][c] + 0.5 * s;
        }
      }
      forward.run(x, count, depth, 0.5f, m, offset, width, out);
      float[] flat = new float[count * width];
      for (int r = 0; r < count; r++) {
        System.arraycopy(out[r], 0, flat, r * width, width);
      }
      double error = relative(exact, flat, 0);
      assertTrue(
          error < 1e-5,
          name + " forward " + count + " x " + depth + " x " + width + ": relative error " + error);
    }
  }

  private static void checkBackward(Backward backward, String name) {
    for (int[] shape : SHAPES) {
      int count = shape[0];
      int depth = shape[1];
      int width = shape[2];
      float[] x = random(count * depth, 4);
      float[][] g = new float[count][];
      for (int r = 0; r < count; r++) {
        g[r] = random(width, 5 + r);
      }
      int offset = 3;
      float[] out = random(offset + depth * width + 2, 6); // overwritten in the middle only
      float before = out[offset - 1];
      float after = out[offset + depth * width];
      double[] exact = new double[depth * width];
      for (int j = 0; j < depth; j++) {
        for (int c = 0; c < width; c++) {
          double s = 0;
          for (int r = 0; r < count; r++) {
            s += (double) x[r * depth + j] * g[r][c];
          }
          exact[j * width + c] = s;
        }
      }
      backward.run(x, count, depth, g, width, out, offset);
      double error = relative(exact, out, offset);
      String shapeName = count + " x " + depth + " x " + width;
      assertTrue(error < 1e-5, name + " backward " + shapeName + ": relative error " + error);
      assertEquals(before, out[offset - 1], 0f, name + " wrote before its rows, " + shapeName);
      assertEquals(after, out[offset + depth * width], 0f, name + " wrote after its rows");
    }
  }

  @Test
  void loopsMatchADoubleSum() {
    float[][] scratch = Kernels.rows(4, 130);
    float[] acc = new float[130];
    checkForward(
        (x, count, depth, scale, m, offset, width, out) ->
            Kernels.multiplyAddLoops(x, count, depth, scale, m, offset, width, out, scratch),
        "loops");
    checkBackward(
        (x, count, depth, g, width, out, offset) ->
            Kernels.transposeTimesLoops(x, count, depth, g, width, out, offset, acc, 0, depth),
        "loops");
  }

  @Test
  void vectorKernelsMatchADoubleSum() {
    assumeTrue(Kernels.VECTOR, "the JVM runs without --add-modules jdk.incubator.vector");
    checkForward(VectorKernels::multiplyAdd, "vector");
    checkBackward(
        (x, count, depth, g, width, out, offset) ->
            VectorKernels.transposeTimes(x, count, depth, g, width, out, offset, 0, depth),
        "vector");
  }

  @Test
  void dispatchedBackwardMatchesADoubleSumInReadyBlocks() {
    float[] acc = new float[130];
    int[] calls = new int[1];
    checkBackward(
        (x, count, depth, g, width, out, offset) ->
            Kernels.transposeTimes(
                x,
                count,
                depth,
                g,
                width,
                out,
                offset,
                acc,
                (from, to) -> {
                  assertEquals(0, (from - offset) % (Kernels.READY_ROWS * width));
                  calls[0]++;
                }),
        Kernels.VECTOR ? "vector (dispatched)" : "loops (dispatched)");
    // one call per 8 rows of every shape: 64 + 3 + 2 + 1 + 2 + 1 + 1
    assertEquals(74, calls[0]);
  }

  @Test
  void vectorSoftmaxMatchesTheDoubleOne() {
    assumeTrue(Kernels.VECTOR, "the JVM runs without --add-modules jdk.incubator.vector");
    for (int classes : new int[] {100, 7, 16, 33}) {
      int count = 5;
      float[][] logits = new float[count][];
      int[] labels = new int[count];
      for (int r = 0; r < count; r++) {
        logits[r] = random(classes, 10 + r);
        for (int c = 0; c < classes; c++) {
          logits[r][c] *= 8; // spread as a trained head's: e^-40 .. 1 after the max
        }
        labels[r] = (r * 7) % classes;
      }
      float[][] expected = Kernels.rows(count, classes);
      float[][] got = Kernels.rows(count, classes);
      double lossExpected =
          Kernels.softmaxCrossEntropy(
              logits, count, classes, null, labels, 0.2f, new double[classes], expected);
      double loss = VectorKernels.softmaxCrossEntropy(logits, count, classes, labels, 0.2f, got);
      assertEquals(lossExpected, loss, 1e-5 * lossExpected, classes + " classes: loss");
      for (int r = 0; r < count; r++) {
        for (int c = 0; c < classes; c++) {
          assertEquals(expected[r][c], got[r][c], 2e-7, classes + " classes, row " + r + ", " + c);
        }
      }
    }
  }

  @Test
  void vectorKernelsAreOnWhereverTheModuleIsAndVectorsAreWide() {
    boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    assumeTrue(module, "the JVM runs without --add-modules jdk.incubator.vector");
    assumeTrue(
        !"false".equals(System.getProperty("fedlake.vector")), "switched off by fedlake.vector");
    assertEquals(FloatVector.SPECIES_PREFERRED.length() >= 8, Kernels.VECTOR);
  }
}
