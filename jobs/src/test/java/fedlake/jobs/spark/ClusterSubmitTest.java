package fedlake.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outcome file that carries a driver's exit code past spark-submit in standalone cluster deploy
 * mode, and the option parsing around it (the cluster itself: StandaloneClusterIT).
 */
class ClusterSubmitTest {
  @TempDir Path dir;

  @Test
  void outcomeOptionIsTakenOffTheCommandLine() {
    ClusterSubmit.Outcome outcome =
        ClusterSubmit.Outcome.of(
            new String[] {"round", "--store", "s", "--outcome", "file:///tmp/x.outcome", "--a"});
    assertArrayEquals(new String[] {"round", "--store", "s", "--a"}, outcome.args());
    assertEquals("file:///tmp/x.outcome", outcome.uri());
    assertNull(ClusterSubmit.Outcome.of(new String[] {"round"}).uri());
  }

  @Test
  void outcomeOptionWithoutAValueIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ClusterSubmit.Outcome.of(new String[] {"round", "--outcome", "--store", "s"}));
    assertEquals(
        "option --outcome expects a file URI, e.g. file:///tmp/round.outcome", e.getMessage());
  }

  @Test
  void recordedCodeReadsBackAndAMissingFileIsEmpty() throws Exception {
    String uri = dir.resolve("sub/round.outcome").toUri().toString();
    assertEquals(OptionalInt.empty(), ClusterSubmit.read(uri, new Configuration()));
    ClusterSubmit.Outcome.of(new String[] {"round", "--outcome", uri})
        .record("round", 3, new PrintStream(new ByteArrayOutputStream()));
    assertEquals("exit=3\ncommand=round\n", Files.readString(dir.resolve("sub/round.outcome")));
    assertEquals(OptionalInt.of(3), ClusterSubmit.read(uri, new Configuration()));
  }

  @Test
  void anOutcomeFileWithoutItsCodeIsNamed() throws Exception {
    Path file = Files.writeString(dir.resolve("bad.outcome"), "command=round\n");
    String uri = file.toUri().toString();
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> ClusterSubmit.read(uri, new Configuration()));
    assertEquals("Outcome file " + uri + " has no exit=N line", e.getMessage());
  }

  @Test
  void anOutcomeThatCannotBeWrittenIsReported() throws Exception {
    Path blocker = Files.writeString(dir.resolve("a-file"), "not a folder");
    String uri = blocker.resolve("round.outcome").toUri().toString();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ClusterSubmit.Outcome.of(new String[] {"round", "--outcome", uri})
        .record("round", 0, new PrintStream(err, true, StandardCharsets.UTF_8));
    String message = err.toString(StandardCharsets.UTF_8);
    assertTrue(
        message.startsWith(
            "fedlake round: cannot write the outcome file " + uri + " (option --outcome): "),
        message);
    assertEquals(1, message.lines().count(), message);
  }

  @Test
  void clusterDeployModeIsAskedForByItsOption() {
    assertTrue(ClusterSubmit.wanted(new String[] {"--store", "s", "--deploy-mode", "cluster"}));
    assertFalse(ClusterSubmit.wanted(new String[] {"--store", "s", "--deploy-mode", "client"}));
    assertFalse(ClusterSubmit.wanted(new String[] {"--store", "s", "--deploy-mode"}));
  }
}
