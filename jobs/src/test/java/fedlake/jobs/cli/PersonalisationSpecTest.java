package fedlake.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.schema.PersonalisationSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** spec set --personalisation: what it writes and how it refuses. */
class PersonalisationSpecTest {
  @TempDir Path dir;

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  @Test
  void personalisationIsSetTunedAndSwitchedOff() {
    String store = dir.resolve("store").toUri().toString();
    assertEquals(0, run("init", "--store", store, "--dim", "4", "--classes", "3").code());
    assertNull(Specs.require(Store.open(store)).getClient().getPersonalisation(), "off by default");

    CliRun on = run("spec", "set", "--store", store, "--personalisation", "feddat");
    assertEquals(0, on.code(), on.err());
    PersonalisationSpec p = Specs.require(Store.open(store)).getClient().getPersonalisation();
    assertEquals("feddat", p.getMode());
    assertEquals(3.0, p.getTemperature());
    assertEquals(1.0, p.getSharedDistillation());
    assertEquals(1.0, p.getLocalDistillation());

    CliRun tuned =
        run(
            "spec",
            "set",
            "--store",
            store,
            "--distillation-temperature",
            "2",
            "--local-distillation",
            "0.5");
    assertEquals(0, tuned.code(), tuned.err());
    p = Specs.require(Store.open(store)).getClient().getPersonalisation();
    assertEquals(2.0, p.getTemperature());
    assertEquals(1.0, p.getSharedDistillation());
    assertEquals(0.5, p.getLocalDistillation());

    CliRun off = run("spec", "set", "--store", store, "--personalisation", "none");
    assertEquals(0, off.code(), off.err());
    assertNull(Specs.require(Store.open(store)).getClient().getPersonalisation());
    assertEquals(4, Specs.require(Store.open(store)).getSpecVersion());
  }

  @Test
  void badPersonalisationSettingsAreRefusedWithTheReason() {
    String store = dir.resolve("store").toUri().toString();
    assertEquals(0, run("init", "--store", store, "--dim", "4", "--classes", "3").code());
    CliRun mode = run("spec", "set", "--store", store, "--personalisation", "fedper");
    assertEquals(2, mode.code());
    assertTrue(
        mode.err().contains("--personalisation must be 'feddat' or 'none', got 'fedper'"),
        mode.err());
    CliRun alone = run("spec", "set", "--store", store, "--shared-distillation", "2");
    assertEquals(2, alone.code());
    assertTrue(
        alone
            .err()
            .contains(
                "--distillation-temperature, --shared-distillation and --local-distillation need"
                    + " --personalisation feddat"),
        alone.err());
    CliRun temperature =
        run(
            "spec",
            "set",
            "--store",
            store,
            "--personalisation",
            "feddat",
            "--distillation-temperature",
            "-1");
    assertEquals(2, temperature.code());
    assertTrue(
        temperature.err().contains("personalisation temperature must be finite and > 0, got -1.0"),
        temperature.err());
    assertEquals(1, Specs.require(Store.open(store)).getSpecVersion(), "nothing was written");
  }
}
