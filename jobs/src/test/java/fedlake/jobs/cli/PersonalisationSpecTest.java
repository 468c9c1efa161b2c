package fedlake.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.jobs.FedlakeMain;
import fedlake.schema.PersonalisationSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** spec set --personalisation: what it writes and how it refuses. */
class PersonalisationSpecTest {
  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        FedlakeMain.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void personalisationIsSetTunedAndSwitchedOff() {
    String store = dir.resolve("store").toUri().toString();
    assertEquals(0, run("init", "--store", store, "--dim", "4", "--classes", "3").code());
    assertNull(Specs.require(Store.open(store)).getClient().getPersonalisation(), "off by default");

    Run on = run("spec", "set", "--store", store, "--personalisation", "feddat");
    assertEquals(0, on.code(), on.err());
    PersonalisationSpec p = Specs.require(Store.open(store)).getClient().getPersonalisation();
    assertEquals("feddat", p.getMode());
    assertEquals(3.0, p.getTemperature());
    assertEquals(1.0, p.getSharedDistillation());
    assertEquals(1.0, p.getLocalDistillation());

    Run tuned =
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

    Run off = run("spec", "set", "--store", store, "--personalisation", "none");
    assertEquals(0, off.code(), off.err());
    assertNull(Specs.require(Store.open(store)).getClient().getPersonalisation());
    assertEquals(4, Specs.require(Store.open(store)).getSpecVersion());
  }

  @Test
  void badPersonalisationSettingsAreRefusedWithTheReason() {
    String store = dir.resolve("store").toUri().toString();
    assertEquals(0, run("init", "--store", store, "--dim", "4", "--classes", "3").code());
    Run mode = run("spec", "set", "--store", store, "--personalisation", "fedper");
    assertEquals(2, mode.code());
    assertTrue(
        mode.err().contains("--personalisation must be 'feddat' or 'none', got 'fedper'"),
        mode.err());
    Run alone = run("spec", "set", "--store", store, "--shared-distillation", "2");
    assertEquals(2, alone.code());
    assertTrue(
        alone
            .err()
            .contains(
                "--distillation-temperature, --shared-distillation and --local-distillation need"
                    + " --personalisation feddat"),
        alone.err());
    Run temperature =
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
