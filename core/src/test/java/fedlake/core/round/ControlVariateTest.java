package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import fedlake.core.Fixtures;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.schema.FederationSpec;
import fedlake.schema.Model;
import fedlake.schema.RobustnessSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SCAFFOLD's server control variate: control deltas beyond robustness.controlDeltaBound are
 * rejected, and a control variate beyond it (a store poisoned before the bound existed) is reset,
 * so that honest sites are accepted again.
 */
class ControlVariateTest {
  @TempDir Path dir;
  private Store store;

  @BeforeEach
  void init() {
    store = Store.open(dir.resolve("store").toUri().toString());
    new Federation(store).dimension(2).classes(2).strategy("scaffold").execute();
  }

  private void setControlDeltaBound(double bound) {
    FederationSpec current = Specs.require(store);
    Specs.write(
        store,
        Specs.next(current, "test: robustness.controlDeltaBound=" + bound, 1L)
            .setRobustness(
                RobustnessSpec.newBuilder(current.getRobustness())
                    .setControlDeltaBound(bound)
                    .build())
            .build());
  }

  private void upload(Model base, String site, float[] controlDelta) throws IOException {
    store.writeUpdate(
        Fixtures.update(base, site, 10, floats(0.5, 0, 0, 0.5), floats(0, 0))
            .setControlDelta(FloatArrays.asList(controlDelta))
            .build());
  }

  private static float[] filled(float value) {
    float[] values = new float[6];
    Arrays.fill(values, value);
    return values;
  }

  @Test
  void aPoisonedServerControlVariateIsResetAndHonestSitesAreAcceptedAgain() throws Exception {
    // a store poisoned before the bound: the bound raised so far that 9,999 passes
    setControlDeltaBound(1_000_000);
    Model zero = store.readModel(0, 0);
    upload(zero, "site-a", filled(0));
    upload(zero, "site-b", filled(0));
    upload(zero, "site-c", filled(0));
    upload(zero, "evil", filled(9_999));
    RoundResult poisoned = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, poisoned.status(), poisoned.message());
    Model one = store.readModel(1, 0);
    assertArrayEquals(
        filled(9_999f / 4), FloatArrays.toArray(one.getControlVariate()), 1e-3f, "poisoned");

    // the default bound again: 4 x logit scale
    setControlDeltaBound(4.0);
    double limit = 4.0 * one.getLogitScale();
    upload(one, "site-a", filled(1));
    upload(one, "site-b", filled(-1));
    RoundResult recovery = new RoundJob(store).execute();

    assertEquals(RoundResult.Status.PUBLISHED, recovery.status(), recovery.message());
    Model two = store.readModel(2, 0);
    assertArrayEquals(filled(0), FloatArrays.toArray(two.getControlVariate()), 0f, "reset");
    assertEquals(
        "Aggregated 2 update(s) with scaffold into "
            + two.getVersion()
            + "; the server control variate of "
            + one.getVersion()
            + " holds 2499.75, beyond "
            + limit
            + " (robustness.controlDeltaBound): reset to zero",
        recovery.history().get(0).getMessage());

    // honest rounds go on: their control deltas move the control variate again, within the bound
    upload(two, "site-a", filled(2));
    upload(two, "site-b", filled(4));
    RoundResult next = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, next.status(), next.message());
    assertEquals(2, next.accepted());
    assertArrayEquals(
        filled(3), FloatArrays.toArray(store.readModel(3, 0).getControlVariate()), 0f);
  }

  @Test
  void aPoisonedControlVariateIsResetEvenWhenNoUpdateIsValid() throws Exception {
    setControlDeltaBound(1_000_000);
    Model zero = store.readModel(0, 0);
    upload(zero, "evil", filled(9_999));
    new RoundJob(store).execute();
    setControlDeltaBound(4.0);
    Model one = store.readModel(1, 0);

    RoundResult recovery = new RoundJob(store).execute(); // no update at all

    assertEquals(RoundResult.Status.PUBLISHED, recovery.status(), recovery.message());
    Model two = store.readModel(2, 0);
    assertArrayEquals(filled(0), FloatArrays.toArray(two.getControlVariate()), 0f);
    assertArrayEquals(
        FloatArrays.toArray(one.getWeights()), FloatArrays.toArray(two.getWeights()), 0f);
    assertEquals(two.getVersion(), store.requireLatest().version(0));
    assertEquals(
        "Carried "
            + one.getVersion()
            + " forward as "
            + two.getVersion()
            + " without aggregating (0 valid update(s), the spec asks for at least 1); the server"
            + " control variate of "
            + one.getVersion()
            + " holds 9999.0, beyond "
            + 4.0 * one.getLogitScale()
            + " (robustness.controlDeltaBound): reset to zero",
        recovery.history().get(0).getMessage());
    assertEquals(0, recovery.history().get(0).getParticipants());
  }
}
