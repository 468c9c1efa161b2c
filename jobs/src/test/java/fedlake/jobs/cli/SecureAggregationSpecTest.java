package fedlake.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.schema.FederationSpec;
import fedlake.schema.SecureAggregationSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** spec set --secure-aggregation: what it writes, and the combinations it refuses. */
class SecureAggregationSpecTest {
  @TempDir Path dir;

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  private String store() {
    String store = dir.resolve("store").toUri().toString();
    CliRun init = run("init", "--store", store, "--dim", "4", "--classes", "3");
    assertEquals(0, init.code(), init.err());
    return store;
  }

  @Test
  void specSetTurnsSecureAggregationOnWithItsSettingsAndOffAgain() {
    String store = store();
    CliRun set =
        run(
            "spec",
            "set",
            "--store",
            store,
            "--secure-aggregation",
            "on",
            "--secagg-threshold",
            "7",
            "--secagg-clip",
            "2",
            "--secagg-scale",
            "4096",
            "--secagg-deadlines",
            "60,120,3600,300");
    assertEquals(0, set.code(), set.err());
    SecureAggregationSpec s = Specs.require(Store.open(store)).getSecureAggregation();
    assertEquals(7, s.getThreshold());
    assertEquals(2.0, s.getClip());
    assertEquals(4096.0, s.getScale());
    assertEquals(60, s.getKeysSeconds());
    assertEquals(120, s.getSharesSeconds());
    assertEquals(3600, s.getMaskedSeconds());
    assertEquals(300, s.getUnmaskSeconds());
    assertEquals(0, run("spec", "set", "--store", store, "--secagg-threshold", "5").code());
    assertEquals(5, Specs.require(Store.open(store)).getSecureAggregation().getThreshold());
    assertEquals(0, run("spec", "set", "--store", store, "--secure-aggregation", "off").code());
    assertNull(Specs.require(Store.open(store)).getSecureAggregation());
  }

  private void refused(String store, String expected, String... options) {
    String[] args = new String[4 + options.length];
    args[0] = "spec";
    args[1] = "set";
    args[2] = "--store";
    args[3] = store;
    System.arraycopy(options, 0, args, 4, options.length);
    CliRun run = run(args);
    assertEquals(2, run.code(), run.out());
    assertEquals("fedlake spec: " + expected + "\n", run.err());
  }

  @Test
  void combinationsThatNeedIndividualUpdatesAreRefused() {
    String store = store();
    assertEquals(0, run("spec", "set", "--store", store, "--secure-aggregation", "on").code());
    FederationSpec before = Specs.require(Store.open(store));
    refused(
        store,
        "secure aggregation hides every individual update, so robust aggregation (median, trimmed"
            + " mean, Krum, norm clipping, weight caps, exclusion by norm, direction or class rows)"
            + " cannot run on them; set --aggregation mean, the clipping and cap multiples and"
            + " --misdirected-ceiling to 0 and --direction-floor to -1, or turn secure aggregation"
            + " off",
        "--aggregation",
        "median");
    refused(
        store,
        "secure aggregation gives the round job only the sum of the updates; strategy scaffold"
            + " needs more (control variates or local steps): use fedadagrad, fedadam, fedavg,"
            + " fedavgm, fedprox or fedyogi",
        "--strategy",
        "scaffold");
    refused(
        store,
        "central differential privacy is not combined with secure aggregation in this version: its"
            + " server-side clipping and sampling checks need individual updates"
            + " (docs/secure-aggregation.md)",
        "--privacy",
        "central-gaussian");
    refused(
        store,
        "secure aggregation runs each round's protocol once: late updates cannot be buffered"
            + " (--late-updates ignore)",
        "--late-updates",
        "buffer");
    refused(
        store,
        "--secagg-deadlines needs four whole numbers of seconds (keys,shares,masked,unmask), got"
            + " '60,60'",
        "--secagg-deadlines",
        "60,60");
    refused(
        store, "secure aggregation threshold must be at least 2, got 1", "--secagg-threshold", "1");
    assertEquals(before.getSpecVersion(), Specs.require(Store.open(store)).getSpecVersion());
  }
}
