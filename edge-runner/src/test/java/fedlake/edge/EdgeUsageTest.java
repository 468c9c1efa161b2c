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

  @Test
  void anUnknownOptionListsTheCommandsKnownOnes() {
    Run keygen = run("keygen", "--site", "a", "--store", "s");
    assertEquals(2, keygen.exitCode());
    assertEquals(
        "fedlake edge: edge keygen: unknown option --store (known: --site, --state-dir)\n",
        keygen.err());
    Run secagg = run("secagg", "--site", "a", "--holdout", "0.1");
    assertEquals(2, secagg.exitCode());
    assertEquals(
        "fedlake edge: edge secagg: unknown option --holdout (known: --batch-size, --conf, --data,"
            + " --epochs, --key, --learning-rate, --quiet, --seed, --site, --state-dir, --store)\n",
        secagg.err());
  }

  @Test
  void everyOptionOfEveryEdgeCommandHasItsOwnUsageLine() {
    for (fedlake.core.cli.CommandLine command : EdgeMain.commandLines()) {
      java.util.List<String> names =
          command.options().stream().map(fedlake.core.cli.Option::name).toList();
      assertEquals(
          names.size(), new java.util.HashSet<>(names).size(), command.command() + ": " + names);
      for (fedlake.core.cli.Option option : command.options()) {
        String line = "  --" + option.name() + (option.isFlag() ? " " : " " + option.value() + " ");
        assertTrue(
            command.usage().lines().anyMatch(l -> l.startsWith(line)),
            command.command() + " --" + option.name());
      }
    }
    assertTrue(EdgeMain.USAGE.contains("\n  --site-stats-min-count K "), EdgeMain.USAGE);
  }
}
