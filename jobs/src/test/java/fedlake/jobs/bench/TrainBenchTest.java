package fedlake.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import fedlake.core.data.Npy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fedlake bench train} on a small seeded data set: its lines, its references, bad options.
 */
class TrainBenchTest {
  @TempDir Path dir;

  /** 40 rows of 8 dimensions, 3 classes around distinct means. */
  private Path data() throws IOException {
    int n = 40;
    int d = 8;
    SplittableRandom random = new SplittableRandom(5);
    float[] x = new float[n * d];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 3;
      for (int j = 0; j < d; j++) {
        x[i * d + j] = (float) ((j == y[i] ? 2 : 0) + 0.3 * random.nextGaussian());
      }
    }
    Npy.writeFloat32(dir.resolve("train_X.npy"), x, n, d);
    Npy.writeInt32(dir.resolve("train_y.npy"), y);
    return dir;
  }

  private static List<String> run(int expectedExit, String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int exit = TrainBench.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(expectedExit, exit, text);
    return Arrays.asList(text.split("\n"));
  }

  private static String line(List<String> lines, String prefix) {
    return lines.stream()
        .filter(l -> l.startsWith(prefix))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no line starting with '" + prefix + "' in " + lines));
  }

  @Test
  void timesEveryClientAlgorithmWithoutAReference() throws IOException {
    List<String> lines =
        run(0, "--data", data().toString(), "--epochs", "2", "--repeats", "1", "--python", "none");
    // 2 epochs of ceil(40 / 16) = 3 batches
    assertTrue(line(lines, "java  sgd: ").contains(", 6 steps), "), lines.toString());
    assertTrue(line(lines, "bench train: ").contains("40 x 8, 3 classes; 2 epochs, batch 16"));
    // jobs' tests run without --add-modules jdk.incubator.vector
    assertEquals(
        "java: kernels loops auto-vectorised by C2 (no --add-modules jdk.incubator.vector)",
        line(lines, "java: kernels "));
    line(lines, "  sgd ");
    line(lines, "  scaffold ");
    line(lines, "  prox ");
    assertTrue(lines.stream().noneMatch(l -> l.startsWith("numpy")), lines.toString());
  }

  @Test
  void printsTheOneThreadAndTheInheritedReferenceWithARatioEach() throws Exception {
    Process check = new ProcessBuilder("python3", "-c", "import numpy").start();
    assumeTrue(check.waitFor() == 0, "python3 with numpy is not installed");
    List<String> lines = run(0, "--data", data().toString(), "--epochs", "2", "--repeats", "1");
    line(lines, "numpy: BLAS threads 1");
    line(lines, "numpy: BLAS threads as inherited (");
    String one = line(lines, "numpy sgd (1 BLAS thread): ");
    String inherited = line(lines, "numpy sgd (inherited BLAS threads): ");
    assertTrue(one.contains(" s training (cpu "), one);
    assertTrue(inherited.contains(" s training (cpu "), inherited);
    assertTrue(
        line(lines, "ratio java / numpy (1 BLAS thread): ").contains("(goal <= 1.0); in cpu time "),
        lines.toString());
    assertTrue(
        line(lines, "ratio java / numpy (inherited BLAS threads): ")
            .contains("(goal <= 1.0); in cpu time "),
        lines.toString());
    // the line order: the floor first
    assertTrue(lines.indexOf(one) < lines.indexOf(inherited), lines.toString());
  }

  @Test
  void refusesAThreadSettingThatIsNeitherACountNorInherit() throws IOException {
    List<String> lines =
        run(2, "--data", data().toString(), "--numpy-threads", "1,two", "--python", "none");
    assertEquals(
        "bench train: --numpy-threads: 'two' is neither a thread count (1-9999) nor 'inherit'",
        lines.get(0));
    assertEquals(
        "bench train: --numpy-threads: '0' is neither a thread count (1-9999) nor 'inherit'",
        run(2, "--numpy-threads", "0").get(0));
  }
}
