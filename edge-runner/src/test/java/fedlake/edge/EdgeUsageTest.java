package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code --version} and the usage, in process (the archives' launcher is tested in EdgeArchiveIT).
 * The test class path holds the encoder module, so this is the images variant.
 */
class EdgeUsageTest {
  record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        EdgeMain.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void versionNamesTheBuildAndTheVariant() {
    Run run = run("--version");
    assertEquals(0, run.exitCode());
    assertTrue(
        run.out()
            .matches(
                "fedlake-edge \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(images variant: trains on --data or"
                    + " embeds --images with the PyTorch engine; update format of runner "
                    + EdgeTrain.VERSION.replace(".", "\\.")
                    + "\\)\n"),
        run.out());
    assertEquals("", run.err());
  }

  @Test
  void helpGoesToStdoutWithExitZeroAndMisuseToStderrWithTwo() {
    for (String[] args :
        new String[][] {{"train", "--help"}, {"--help"}, {"train", "--site", "a", "-h"}}) {
      Run help = run(args);
      assertEquals(0, help.exitCode());
      assertEquals(EdgeMain.USAGE + "\n", help.out());
    }
    Run none = run();
    assertEquals(2, none.exitCode());
    assertEquals("", none.out());
    assertEquals(EdgeMain.USAGE + "\n", none.err());
    assertEquals(2, run("fly").exitCode());
  }
}
