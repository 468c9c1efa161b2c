package fedlake.jobs.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.client.FedDatRound;
import fedlake.core.client.SiteState;
import fedlake.core.data.Dataset;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-site test rows drawn with the site's label distribution, and the per-site evaluation. */
class PersonalEvaluationTest {
  @TempDir Path dir;

  private static Dataset labelled(String source, int dimension, int... labels) {
    float[] x = new float[labels.length * dimension];
    for (int r = 0; r < labels.length; r++) {
      x[r * dimension + (labels[r] % dimension)] = 1f; // class c points along axis c
    }
    return Dataset.of(source, x, labels, dimension);
  }

  @Test
  void testRowsFollowTheSitesLabelDistribution() {
    // site: 6 rows of class 0, 3 of class 2, 1 of class 3 (no test rows: left out)
    Dataset train = labelled("site", 4, 0, 0, 0, 0, 0, 0, 2, 2, 2, 3);
    Dataset test = labelled("test", 4, 0, 0, 1, 1, 2, 0, 2);
    Dataset drawn = PersonalEvaluation.draw(train, test, 4, 12, 7);
    assertEquals(12, drawn.size());
    long[] histogram = drawn.labelHistogram(4);
    // 12 rows by the shares 6/9 and 3/9 of the classes with test rows: 8 and 4
    assertEquals(8, histogram[0]);
    assertEquals(0, histogram[1]);
    assertEquals(4, histogram[2]);
    assertEquals(0, histogram[3]);
    // the same seed draws the same rows
    Dataset again = PersonalEvaluation.draw(train, test, 4, 12, 7);
    assertEquals(
        java.util.Arrays.toString(drawn.features()), java.util.Arrays.toString(again.features()));

    IllegalArgumentException none =
        assertThrows(
            IllegalArgumentException.class,
            () -> PersonalEvaluation.draw(labelled("lonely", 4, 3, 3), test, 4, 5, 1));
    assertEquals(
        "simulate: site rows of lonely have no class with test rows in test", none.getMessage());
    IllegalArgumentException rows =
        assertThrows(
            IllegalArgumentException.class, () -> PersonalEvaluation.draw(train, test, 4, 0, 1));
    assertEquals("simulate: --site-test-rows must be at least 1, got 0", rows.getMessage());
  }

  @Test
  void thePersonalisedModelAveragesTheKeptLocalHeadAndTheGlobalOne() {
    int d = 2;
    int classes = 2;
    // global head: w0 = (1, 0), w1 = (-1, 0): class 0 for x = (1, 0), and for x = (0, 1) a tie
    // broken by bias 0.5 for class 0; the local head prefers class 1 for x = (0, 1)
    Model global =
        Models.initialHead(
            new Head(d, classes, 1f, new float[] {1f, 0f, -1f, 0f}, new float[] {0.5f, 0f}),
            0,
            "zeros",
            false,
            0);
    float[] local = {1f, 0f, -1f, 2f, 0f, 0f};
    Path states = dir.resolve("states");
    SiteState.open(states, "file:/store", "site-000")
        .edit()
        .put(0, FedDatRound.LOCAL_HEAD, local)
        .commit();
    Dataset rows = labelled("rows", 2, 0, 1, 1, 1); // (1,0) class 0; (0,1) class 1 three times
    PersonalEvaluation.Result result =
        PersonalEvaluation.evaluate(
            global,
            states,
            "file:/store",
            List.of("site-000", "site-001"),
            List.of(rows, rows),
            null);
    // personalised: logits averaged, (1.25, -1) for (1, 0) and (0.25, 1) for (0, 1): all right
    assertEquals(1.0, result.sites().get(0).personalised(), 1e-12);
    assertEquals(1.0, result.sites().get(0).local(), 1e-12);
    assertEquals(0.25, result.sites().get(0).global(), 1e-12);
    // no local head kept: the global model stands in
    assertEquals(0.25, result.sites().get(1).personalised(), 1e-12);
    assertEquals((1.0 + 0.25) / 2, result.personalised(), 1e-12);
    assertEquals(0.25, result.global(), 1e-12);
  }
}
