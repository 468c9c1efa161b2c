package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.init.Federation;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * kill -9 of a round job in its own process at each checkpoint, then a rerun: it publishes the
 * model version an uninterrupted run publishes and leaves no temporary file behind.
 */
class RoundCrashTest {
  @TempDir Path dir;
  private Path root;
  private Store store;

  @BeforeEach
  void init() throws IOException {
    root = dir.resolve("store");
    store = Store.open(root.toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    Model base = store.readModel(0, 0);
    store.writeUpdate(
        Fixtures.update(base, "site-a", 10, floats(1, -2, 0.5, 0), floats(0.25, -1)).build());
    store.writeUpdate(
        Fixtures.update(base, "site-b", 30, floats(3, 4, -1.5, -0.75), floats(0.25, 1)).build());
  }

  /** What an uninterrupted run publishes, on a copy of the store. */
  private String referenceVersion() throws IOException {
    Path copy = dir.resolve("reference");
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.toList()) {
        Path target = copy.resolve(root.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    RoundResult result = new RoundJob(Store.open(copy.toUri().toString())).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    return result.published().get(0).getVersion();
  }

  /**
   * The temporary file a writer killed right after {@code point} leaves: the next one it writes.
   */
  private Path halfWritten(RoundJob.Checkpoint point) {
    String tmp = "." + UUID.randomUUID() + ".tmp";
    return switch (point) {
      case LISTED -> root.resolve("models/round-000001/.cluster-0.parquet" + tmp);
      case CLAIMED -> root.resolve("models/round-000001/.cluster-0.parquet" + tmp);
      case MODELS_WRITTEN -> root.resolve("audit/.round-000000.parquet" + tmp);
      case HISTORY_WRITTEN -> root.resolve("models/._LATEST" + tmp);
    };
  }

  private List<String> temporaries() throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.map(p -> root.relativize(p).toString()).filter(n -> n.endsWith(".tmp")).toList();
    }
  }

  @ParameterizedTest
  @EnumSource(RoundJob.Checkpoint.class)
  void killedThenRerunPublishesTheSameVersionAndLeavesNoTemporaryFile(RoundJob.Checkpoint point)
      throws Exception {
    String expected = referenceVersion();
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                RoundJobChild.class.getName(),
                root.toUri().toString(),
                point.name())
            .redirectErrorStream(true)
            .start();
    StringBuilder output = new StringBuilder();
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        output.append(line).append('\n');
        if (line.equals("REACHED " + point)) {
          break;
        }
      }
      assertTrue(output.toString().contains("REACHED " + point), "the child said:\n" + output);
      // a writer killed in the middle of its next file leaves that file's temporary behind
      Path half = halfWritten(point);
      Files.createDirectories(half.getParent());
      Files.write(half, new byte[] {'P', 'A', 'R', '1'});
      child.destroyForcibly(); // SIGKILL: no finally block, no shutdown hook runs
      assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child did not die");
    }
    assertEquals(137, child.exitValue(), "killed by SIGKILL");
    assertEquals(0, store.requireLatest().round(), "the killed job never moved the pointer");

    RoundResult rerun = new RoundJob(store).execute();

    assertEquals(RoundResult.Status.PUBLISHED, rerun.status(), rerun.message());
    assertEquals(expected, rerun.published().get(0).getVersion());
    assertEquals(expected, store.requireLatest().version(0));
    assertEquals(expected, store.readModel(1, 0).getVersion());
    assertEquals(List.of(), temporaries());
    assertTrue(
        rerun.message().endsWith("; removed 1 temporary file(s) a crashed run left behind"),
        rerun.message());
    if (point != RoundJob.Checkpoint.LISTED) {
      assertTrue(rerun.message().contains("; took over the claim of job "), rerun.message());
    }
    assertEquals(1, store.readHistory().size());
    assertEquals(2, store.readAudit(0).size());
  }
}
