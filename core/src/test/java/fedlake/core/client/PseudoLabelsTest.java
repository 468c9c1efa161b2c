package fedlake.core.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.data.Dataset;
import fedlake.core.model.Head;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Soft pseudo-labels: class-balanced selection and sharpening with known answers, the moving
 * average kept in the site state across rounds, a skipped round, a crash before the commit, and
 * data that changed.
 */
class PseudoLabelsTest {
  @TempDir Path dir;

  private static UnlabeledSettings settings(double momentum, double top, double temperature) {
    return new UnlabeledSettings(momentum, top, temperature, 0, 0, 0.5, 0, 0, 0);
  }

  @Test
  void selectionKeepsTheMostConfidentShareOfEveryPseudoClass() {
    // 5 rows, 2 classes: rows 0, 1, 2 say class 0 (confidence 0.9, 0.6, 0.8), rows 3, 4 class 1
    float[] soft = {0.9f, 0.1f, 0.6f, 0.4f, 0.8f, 0.2f, 0.3f, 0.7f, 0.45f, 0.55f};
    PseudoLabels p =
        PseudoLabels.select(5, 2, soft, new float[7], settings(0.5, 0.5, 1), List.of());
    // class 0: ceil(0.5 x 3) = 2 rows (0 and 2); class 1: ceil(0.5 x 2) = 1 row (3)
    assertArrayEquals(new float[] {1, 0, 1, 1, 0}, p.selected());
    assertArrayEquals(new int[] {0, 0, 0, 1, 1}, p.top());
    assertArrayEquals(new long[] {2, 1}, p.selectedHistogram());
    assertEquals(3, p.selectedCount());
    // audit labels: row 2 is really class 1, row 1 (not selected) does not count
    assertEquals(2.0 / 3, p.accuracy(new int[] {0, 1, 1, 1, 0}), 1e-12);
    assertNull(p.accuracy(new int[] {-1, 0, -1, -1, 1}), "no selected row has a label");
    // temperature 1 keeps the soft labels as targets
    assertArrayEquals(soft, p.targets(), 1e-6f);
  }

  @Test
  void sharpeningRaisesTheSoftLabelToOneOverTheTemperature() {
    float[] soft = {0.6f, 0.3f, 0.1f};
    PseudoLabels p =
        PseudoLabels.select(1, 3, soft, new float[7], settings(0.5, 1, 0.5), List.of());
    // q^2 / sum q^2 = (0.36, 0.09, 0.01) / 0.46
    assertArrayEquals(
        new float[] {0.36f / 0.46f, 0.09f / 0.46f, 0.01f / 0.46f}, p.targets(), 1e-6f);
  }

  /** Two unit rows, two classes; the head's logits are 10 x (W x) + b. */
  private static Dataset data() {
    return Dataset.of("site.npy", new float[] {1, 0, 0, 1}, new int[] {0, 1}, 2);
  }

  private static Head head(float bias0) {
    return new Head(2, 2, 10f, new float[] {0.1f, 0, 0, 0.1f}, new float[] {bias0, 0});
  }

  private static float[] softmaxRow(double z0, double z1) {
    double e0 = Math.exp(z0);
    double e1 = Math.exp(z1);
    return new float[] {(float) (e0 / (e0 + e1)), (float) (e1 / (e0 + e1))};
  }

  @Test
  void theMovingAverageIsKeptAcrossRoundsASkippedRoundAndACrash() {
    Path folder = SiteState.folder(dir, "file:/store", "site-a");
    UnlabeledSettings s = settings(0.75, 1, 1);
    // round 1: nothing kept, the soft labels are the received model's predictions
    SiteState state = SiteState.open(folder);
    PseudoLabels first = PseudoLabels.of(state, 0, 1, data(), head(0), s);
    float[] p1r0 = softmaxRow(1, 0);
    float[] p1r1 = softmaxRow(0, 1);
    assertArrayEquals(new float[] {p1r0[0], p1r0[1], p1r1[0], p1r1[1]}, first.soft(), 1e-6f);
    assertEquals(
        "no kept soft labels: starting from the received model's predictions",
        first.notes().get(0));
    commit(state, first.state());

    // round 2 (round 3 skipped: the site comes back in round 4): q = 0.75 q + 0.25 p
    PseudoLabels second = PseudoLabels.of(SiteState.open(folder), 0, 4, data(), head(2), s);
    float[] p2r0 = softmaxRow(3, 0);
    float[] p2r1 = softmaxRow(2, 1);
    float[] expected = {
      0.75f * p1r0[0] + 0.25f * p2r0[0],
      0.75f * p1r0[1] + 0.25f * p2r0[1],
      0.75f * p1r1[0] + 0.25f * p2r1[0],
      0.75f * p1r1[1] + 0.25f * p2r1[1]
    };
    assertArrayEquals(expected, second.soft(), 1e-6f);
    assertEquals(
        "soft labels kept from round 1 moved toward the received model (momentum 0.75)",
        second.notes().get(0));

    // a crash before the commit (the upload never happened): the kept state is round 1's, so the
    // retried round averages exactly as before
    PseudoLabels retried = PseudoLabels.of(SiteState.open(folder), 0, 4, data(), head(2), s);
    assertArrayEquals(second.soft(), retried.soft(), 0f);
    commit(SiteState.open(folder), retried.state());
    assertArrayEquals(expected, SiteState.open(folder).vector(0, PseudoLabels.SOFT_LABELS), 0f);
    assertEquals(4f, SiteState.open(folder).vector(0, PseudoLabels.SOFT_LABELS_KEY)[6]);

    // other rows (the site's data changed): start again from the received model
    Dataset changed = Dataset.of("site.npy", new float[] {1, 0, 1, 1}, new int[] {0, 1}, 2);
    PseudoLabels fresh = PseudoLabels.of(SiteState.open(folder), 0, 5, changed, head(0), s);
    float[] p3r1 = softmaxRow(10 * 0.1 / Math.sqrt(2), 10 * 0.1 / Math.sqrt(2));
    assertArrayEquals(new float[] {p1r0[0], p1r0[1], p3r1[0], p3r1[1]}, fresh.soft(), 1e-6f);
    assertEquals(
        "kept soft labels belong to other rows or classes (the data changed): starting again from"
            + " the received model",
        fresh.notes().get(0));
  }

  private static void commit(SiteState state, Map<String, float[]> keep) {
    SiteState.Edit edit = state.edit();
    keep.forEach((name, values) -> edit.put(0, name, values));
    edit.commit();
  }

  @Test
  void settingsOutsideTheirRangeAreRefusedWithTheReason() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> settings(1.0, 0.5, 1));
    assertEquals("unlabeled training: momentum must be in [0, 1), got 1.0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> settings(0.5, 0, 1));
    assertEquals("unlabeled training: top fraction must be in (0, 1], got 0.0", e.getMessage());
  }
}
