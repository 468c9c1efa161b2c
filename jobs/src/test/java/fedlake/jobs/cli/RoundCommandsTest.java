package fedlake.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.schema.FederationSpec;
import fedlake.schema.Model;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the Airflow DAGs call besides the jobs: round-ready (the sensor), current-round, init
 * --exists-ok (a retried task), the round deadline option, history on a folder without a
 * federation.
 */
class RoundCommandsTest {
  @TempDir Path dir;

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  private static CliRun roundReady(long now, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        RoundCommands.roundReady(
            args, new PrintStream(out, true, StandardCharsets.UTF_8), () -> now);
    return new CliRun(code, out.toString(StandardCharsets.UTF_8), "");
  }

  private static final String[] INIT = {
    "--dim", "2", "--classes", "2", "--min-sites", "2", "--round-deadline", "60", "--exists-ok"
  };

  private CliRun init(String store, String... more) {
    String[] args = new String[3 + INIT.length + more.length];
    args[0] = "init";
    args[1] = "--store";
    args[2] = store;
    System.arraycopy(INIT, 0, args, 3, INIT.length);
    System.arraycopy(more, 0, args, 3 + INIT.length, more.length);
    return run(args);
  }

  @Test
  void roundReadyExitsFourUntilThePolicySaysGo() throws Exception {
    String uri = dir.resolve("store").toUri().toString();
    assertEquals(0, init(uri).code());
    Store store = Store.open(uri);
    FederationSpec spec = Specs.require(store);
    assertEquals(2, spec.getRoundPolicy().getMinSites());
    assertEquals(60, spec.getRoundPolicy().getDeadlineSeconds());
    Model base = store.readModel(0, 0);
    long opened = base.getCreatedTime().toEpochMilli();
    Instant deadline = Instant.ofEpochMilli(opened + 60_000);

    assertEquals(new CliRun(0, "0\n", ""), run("current-round", "--store", uri));
    CliRun waiting = roundReady(opened, "--store", uri);
    assertEquals(
        new CliRun(
            RoundCommands.NOT_READY,
            "Round 0 is not ready: 0 site(s) with an update, the spec asks for 2; deadline "
                + deadline
                + "\n",
            ""),
        waiting);
    // the sensor counts update files by name, it does not read them
    Path updates = Files.createDirectories(dir.resolve("store/updates/round-000000"));
    Files.writeString(updates.resolve("site-a--1.parquet"), "not read");
    assertEquals(RoundCommands.NOT_READY, roundReady(opened + 59_999, "--store", uri).code());
    assertEquals(
        new CliRun(
            0,
            "Round 0 is ready: its deadline "
                + deadline
                + " passed; 1 site(s) with an update, the spec asks for 2\n",
            ""),
        roundReady(opened + 60_000, "--store", uri, "--round", "0"));
    CliRun future = run("round-ready", "--store", uri, "--round", "3");
    assertEquals(
        new CliRun(2, "", "fedlake round-ready: Cannot check round 3: the current round is 0\n"),
        future);
  }

  @Test
  void initWithExistsOkLeavesTheSameFederationAndRefusesAnother() {
    String uri = dir.resolve("store").toUri().toString();
    CliRun first = init(uri);
    assertEquals(0, first.code(), first.err());
    CliRun again = init(uri);
    assertEquals(0, again.code(), again.err());
    assertTrue(
        again.out().startsWith(uri)
            && again
                .out()
                .contains(" was initialised by this same command already (spec version 1 of ")
            && again.out().endsWith(", now at round 0); nothing to do\n"),
        again.out());
    assertEquals(1, Specs.require(Store.open(uri)).getSpecVersion());
    CliRun other = init(uri, "--strategy", "fedadam");
    assertEquals(2, other.code());
    assertTrue(
        other.err().contains("it already holds a federation at round 0 (use a new store URI)"),
        other.err());
  }

  @Test
  void aNegativeDeadlineIsRefused() {
    CliRun bad =
        run(
            "init",
            "--store",
            dir.resolve("store").toUri().toString(),
            "--dim",
            "2",
            "--classes",
            "2",
            "--round-deadline",
            "-1");
    assertEquals(2, bad.code());
    assertEquals(
        "fedlake init: round-deadline must be 0 (none) or a positive number of seconds, got -1\n",
        bad.err());
  }

  @Test
  void historyOfAFolderWithoutAFederationFails() {
    String empty = dir.resolve("not-a-federation").toUri().toString();
    CliRun history = run("history", "--store", empty);
    assertEquals(2, history.code());
    assertTrue(
        history.err().startsWith("fedlake history: Cannot show history of file:/")
            && history
                .err()
                .endsWith(
                    "not-a-federation: it holds no federation (no model pointer _LATEST and no round history)\n"),
        history.err());
    String uri = dir.resolve("store").toUri().toString();
    assertEquals(0, init(uri).code());
    CliRun fresh = run("history", "--store", uri);
    assertEquals(0, fresh.code(), fresh.err());
    assertTrue(fresh.out().startsWith("No round history in "), fresh.out());
  }
}
