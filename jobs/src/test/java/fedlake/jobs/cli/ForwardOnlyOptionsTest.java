package fedlake.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.jobs.FedlakeMain;
import fedlake.schema.ClientSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** spec set writes forward-only settings and budgets, and refuses bad ones in one line. */
class ForwardOnlyOptionsTest {
  @TempDir Path dir;

  private static int run(ByteArrayOutputStream err, String... args) {
    return FedlakeMain.run(
        args,
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void specSetWritesOptimizerSettingsAndBudgets() {
    String store = dir.resolve("store").toUri().toString();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(0, run(err, "init", "--store", store, "--dim", "4", "--classes", "3"));
    assertEquals(
        0,
        run(
            err,
            "spec",
            "set",
            "--store",
            store,
            "--strategy",
            "fednova",
            "--fo-directions",
            "4",
            "--fo-steps",
            "25",
            "--budgets",
            "weak=1,strong=20,site-9=forward-only:5"),
        err.toString(StandardCharsets.UTF_8));
    ClientSpec client = Specs.require(Store.open(store)).getClient();
    assertEquals("backprop", client.getOptimizer());
    assertEquals(4, client.getForwardOnly().getDirections());
    assertEquals(25, client.getForwardOnly().getSteps());
    assertEquals(0.05, client.getForwardOnly().getLearningRate()); // the default, kept
    assertEquals(1, client.getBudgets().get("weak").getLocalSteps());
    assertNull(client.getBudgets().get("weak").getOptimizer());
    assertEquals(20, client.getBudgets().get("strong").getLocalSteps());
    assertEquals("forward-only", client.getBudgets().get("site-9").getOptimizer());
    assertEquals(5, client.getBudgets().get("site-9").getLocalSteps());
    assertNull(client.getForwardOnly().getCandidates()); // no choice: the directions

    assertEquals(
        0,
        run(err, "spec", "set", "--store", store, "--fo-candidates", "100"),
        err.toString(StandardCharsets.UTF_8));
    client = Specs.require(Store.open(store)).getClient();
    assertEquals(100, client.getForwardOnly().getCandidates());
    assertEquals(4, client.getForwardOnly().getDirections()); // kept
    // a later change of the directions keeps the candidates
    assertEquals(0, run(err, "spec", "set", "--store", store, "--fo-directions", "8"));
    client = Specs.require(Store.open(store)).getClient();
    assertEquals(100, client.getForwardOnly().getCandidates());
    assertEquals(8, client.getForwardOnly().getDirections());
  }

  @Test
  void badBudgetsAndOptimizersAreOneLineErrors() {
    String store = dir.resolve("store").toUri().toString();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(0, run(err, "init", "--store", store, "--dim", "4", "--classes", "3"));
    ByteArrayOutputStream bad = new ByteArrayOutputStream();
    assertEquals(2, run(bad, "spec", "set", "--store", store, "--budgets", "weak=0"));
    assertEquals(
        "fedlake spec: --budgets entry '0' is not a number of local steps >= 1, backprop, forward-only"
            + " or forward-only:N\n",
        bad.toString(StandardCharsets.UTF_8));
    bad.reset();
    assertEquals(2, run(bad, "spec", "set", "--store", store, "--optimizer", "zeroth"));
    assertEquals(
        "fedlake spec: --optimizer: unknown optimizer 'zeroth' (expected backprop or forward-only)\n",
        bad.toString(StandardCharsets.UTF_8));
    bad.reset();
    assertEquals(2, run(bad, "spec", "set", "--store", store, "--fo-candidates", "300"));
    assertEquals(
        "fedlake spec: --fo-*: forward-only candidates must be between the directions (10) and"
            + " 256, got 300\n",
        bad.toString(StandardCharsets.UTF_8));
  }
}
