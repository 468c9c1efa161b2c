package fedlake.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.round.RoundResult;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.FederationSpec;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * init and spec set/show on the command line: what they write, what they print, how they refuse.
 */
class SpecCommandsTest {
  @TempDir Path dir;

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  @Test
  void initWritesTheSpecAndSpecSetRecordsEachChange() {
    String store = dir.resolve("store").toUri().toString();
    CliRun init =
        run(
            "init",
            "--store",
            store,
            "--dim",
            "4",
            "--classes",
            "3",
            "--strategy",
            "fedprox",
            "--mu",
            "0.01");
    assertEquals(0, init.code(), init.err());
    assertTrue(init.out().endsWith("spec version 1: strategy fedprox, prox sites\n"), init.out());
    FederationSpec first = Specs.require(Store.open(store));
    assertEquals(ClientAlgorithmName.PROX, first.getClient().getAlgorithm());
    assertEquals(0.01, first.getClient().getProximalMu());
    assertEquals(
        "init --store " + store + " --dim 4 --classes 3 --strategy fedprox --mu 0.01",
        first.getChange());

    CliRun set =
        run(
            "spec",
            "set",
            "--store",
            store,
            "--strategy",
            "fedadam",
            "--server-lr",
            "0.05",
            "--local-epochs",
            "2");
    assertEquals(0, set.code(), set.err());
    FederationSpec second = Specs.require(Store.open(store));
    assertEquals(2, second.getSpecVersion());
    assertEquals("fedadam", second.getStrategy().getName());
    assertEquals(0.05, second.getStrategy().getParameters().get("server-lr"));
    assertEquals(2, second.getClient().getEpochs());
    // FedAdam over FedProx sites is a valid federation: the sites' algorithm changes only where a
    // strategy needs one
    assertEquals(ClientAlgorithmName.PROX, second.getClient().getAlgorithm());
    assertEquals(0.01, second.getClient().getProximalMu());

    CliRun show = run("spec", "show", "--store", store);
    assertEquals(0, show.code(), show.err());
    assertTrue(show.out().contains("version 1  "), show.out());
    assertTrue(show.out().contains("version 2 (in force)  "), show.out());
    assertTrue(show.out().contains("\"name\" : \"fedadam\""), show.out());
  }

  @Test
  void badChangesExitTwoWithTheReasonAndWriteNothing() {
    String store = dir.resolve("store").toUri().toString();
    assertEquals(0, run("init", "--store", store, "--dim", "4", "--classes", "3").code());
    CliRun range = run("spec", "set", "--store", store, "--strategy", "fedadam", "--beta1", "1.5");
    assertEquals(2, range.code());
    assertEquals(
        "fedlake spec: Strategy fedadam: parameter beta1 must be in [0, 1), got 1.5\n",
        range.err());
    CliRun unknown = run("spec", "set", "--store", store, "--server-momentum", "0.9");
    assertEquals(2, unknown.code());
    assertEquals(
        "fedlake spec: Strategy fedavg has no parameter 'server-momentum' (it has: none)\n",
        unknown.err());
    CliRun nothing = run("spec", "set", "--store", store);
    assertEquals(2, nothing.code());
    assertTrue(
        nothing.err().startsWith("fedlake spec: spec set: nothing to change"), nothing.err());
    assertEquals(1, Specs.require(Store.open(store)).getSpecVersion(), "no version was written");
  }

  /** A new FedNova federation in folder {@code name}, initialised with {@code option value}. */
  private String initFedNova(String name, String option, String value) {
    String store = dir.resolve(name).toUri().toString();
    CliRun init =
        run(
            "init",
            "--store",
            store,
            "--dim",
            "4",
            "--classes",
            "3",
            "--strategy",
            "fednova",
            option,
            value);
    assertEquals(0, init.code(), init.err());
    return store;
  }

  @Test
  void fedNovaTauEffIsAWordOrANumber() {
    String store = initFedNova("nova", "--tau-eff", "max");
    assertEquals(
        -1.0, Specs.require(Store.open(store)).getStrategy().getParameters().get("tau-eff"));
    CliRun fixed = run("spec", "set", "--store", store, "--tau-eff", "12");
    assertEquals(0, fixed.code(), fixed.err());
    assertEquals(
        12.0, Specs.require(Store.open(store)).getStrategy().getParameters().get("tau-eff"));
    CliRun weighted = run("spec", "set", "--store", store, "--tau-eff", "weighted");
    assertEquals(0, weighted.code(), weighted.err());
    assertEquals(
        0.0, Specs.require(Store.open(store)).getStrategy().getParameters().get("tau-eff"));
    CliRun bad = run("spec", "set", "--store", store, "--tau-eff", "most");
    assertEquals(2, bad.code());
    assertEquals("fedlake spec: spec set: --tau-eff expects a number, got 'most'\n", bad.err());
    CliRun negative = run("spec", "set", "--store", store, "--tau-eff", "-3");
    assertEquals(2, negative.code());
    assertEquals(
        "fedlake spec: Strategy fednova: parameter tau-eff must be in (0, inf] or one of max,"
            + " weighted (max = -1, weighted = 0), got -3.0\n",
        negative.err());
  }

  @Test
  void fedNovaServerOptimizerIsAWord() {
    String store = initFedNova("nova-adam", "--server-momentum", "0.5");
    Map<String, Double> parameters = Specs.require(Store.open(store)).getStrategy().getParameters();
    assertEquals(0.5, parameters.get("server-momentum"));
    assertEquals(null, parameters.get("server-optimizer")); // not given: the default, sgd
    CliRun adam =
        run(
            "spec",
            "set",
            "--store",
            store,
            "--server-optimizer",
            "adam",
            "--server-lr",
            "0.01",
            "--beta1",
            "0.8");
    assertEquals(0, adam.code(), adam.err());
    parameters = Specs.require(Store.open(store)).getStrategy().getParameters();
    assertEquals(1.0, parameters.get("server-optimizer"));
    assertEquals(0.01, parameters.get("server-lr"));
    assertEquals(0.8, parameters.get("beta1"));
    CliRun bad = run("spec", "set", "--store", store, "--server-optimizer", "3");
    assertEquals(2, bad.code());
    assertEquals(
        "fedlake spec: Strategy fednova: parameter server-optimizer must be one of adam, sgd"
            + " (adam = 1, sgd = 0), got 3.0\n",
        bad.err());
  }

  @Test
  void roundSafetyBoundsAreSetAndChecked() {
    String store = dir.resolve("bounds").toUri().toString();
    assertEquals(0, run("init", "--store", store, "--dim", "4", "--classes", "3").code());
    CliRun set =
        run(
            "spec",
            "set",
            "--store",
            store,
            "--max-clock-skew-seconds",
            "60",
            "--control-delta-bound",
            "2.5",
            "--claim-timeout-minutes",
            "30");
    assertEquals(0, set.code(), set.err());
    var robustness = Specs.require(Store.open(store)).getRobustness();
    assertEquals(60, robustness.getMaxClockSkewSeconds());
    assertEquals(2.5, robustness.getControlDeltaBound());
    assertEquals(30, robustness.getClaimTimeoutMinutes());

    CliRun bad = run("spec", "set", "--store", store, "--control-delta-bound", "0");
    assertEquals(2, bad.code());
    assertEquals(
        "fedlake spec: robustness.controlDeltaBound must be positive, got 0.0\n", bad.err());
    CliRun never = run("spec", "set", "--store", store, "--claim-timeout-minutes", "0");
    assertEquals(2, never.code());
    assertEquals(
        "fedlake spec: robustness.claimTimeoutMinutes must be at least 1, got 0\n", never.err());
  }

  @Test
  void theRecommendedRobustConfigurationIsSetFromTheCommandLine() {
    // docs/robustness.md's recommendation, as a data engineer would type it
    String store = dir.resolve("robust").toUri().toString();
    assertEquals(0, run("init", "--store", store, "--dim", "4", "--classes", "3").code());
    CliRun set =
        run(
            "spec",
            "set",
            "--store",
            store,
            "--strategy",
            "fedavgm",
            "--exclude-median-multiple",
            "4",
            "--clip-median-multiple",
            "2",
            "--weight-median-multiple",
            "4",
            "--direction-floor",
            "0",
            "--direction-mad-multiple",
            "5",
            "--misdirected-ceiling",
            "0.5");
    assertEquals(0, set.code(), set.err());
    var robustness = Specs.require(Store.open(store)).getRobustness();
    assertEquals("fedavgm", Specs.require(Store.open(store)).getStrategy().getName().toString());
    assertEquals(5.0, robustness.getDirectionMadMultiple());
    assertEquals(0.5, robustness.getMisdirectedCeiling());
    assertEquals(
        "mean, clip 2.0x median norm, exclude above 4.0x median norm, exclude below cosine 0.0 to"
            + " the unit-mean direction and 5.0 median deviations below the round's median cosine,"
            + " exclude above 0.5 of the change in misdirected class rows, weight cap 4.0x median",
        fedlake.core.strategy.RobustSettings.of(robustness).describe());

    assertTrue(!set.out().contains("Note:"), set.out());
    // SCAFFOLD blurs what the class-row rule looks at: spec set says so
    CliRun scaffold = run("spec", "set", "--store", store, "--strategy", "scaffold");
    assertEquals(0, scaffold.code(), scaffold.err());
    assertTrue(
        scaffold
            .out()
            .contains(
                "Note: under scaffold the class-row rule (misdirectedCeiling) catches only about half"
                    + " of the label-flipped updates"),
        scaffold.out());

    CliRun bad = run("spec", "set", "--store", store, "--direction-mad-multiple", "-1");
    assertEquals(2, bad.code());
    assertTrue(
        bad.err().contains("direction-mad-multiple must be >= 0 (0: off), got -1.0"), bad.err());
    assertEquals(5.0, Specs.require(Store.open(store)).getRobustness().getDirectionMadMultiple());
  }

  @Test
  void theRoundCommandsExitCodes() {
    assertEquals(0, Commands.exitCode(RoundResult.Status.PUBLISHED));
    assertEquals(0, Commands.exitCode(RoundResult.Status.ALREADY_DONE));
    assertEquals(3, Commands.exitCode(RoundResult.Status.NO_VALID_UPDATES));
    assertEquals(4, Commands.exitCode(RoundResult.Status.LOST_RACE));
  }
}
