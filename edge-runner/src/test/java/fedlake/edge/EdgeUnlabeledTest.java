package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.InvalidInputException;
import fedlake.core.client.PseudoLabels;
import fedlake.core.client.SiteState;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.model.Head;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.core.synth.Bootstraps;
import fedlake.core.synth.TextEmbeddings;
import fedlake.schema.UnlabeledSpec;
import fedlake.schema.Update;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A site trains without labels when the spec allows it: soft labels kept in the site state, not
 * advanced by a crash before the upload, refused when the spec requires labels or the round-0 head
 * is not zero-shot.
 */
class EdgeUnlabeledTest {
  private static final int DIMENSION = 8;
  private static final int CLASSES = 3;

  @TempDir Path dir;

  private final GaussianClasses classes = new GaussianClasses(CLASSES, DIMENSION, 0.5, 11);
  private final Dataset site = classes.sample(10, 3, "site.npy");

  /** A federation whose round-0 head is zero-shot from the class centres ("text" embeddings). */
  private Store federation(boolean allowUnlabeled, boolean zeroShot) {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    Head head =
        zeroShot
            ? Bootstraps.zeroShot(
                TextEmbeddings.of("centres", classes.centres(), CLASSES, DIMENSION), 10f, 100)
            : Head.zeros(DIMENSION, CLASSES, 10f);
    new Federation(store)
        .initialHead(head, "zero-shot")
        .strategy("fedavg")
        .adjust(
            spec -> {
              if (allowUnlabeled) {
                spec.getClient().setUnlabeled(UnlabeledSpec.newBuilder().build());
              }
            })
        .execute();
    return store;
  }

  private static Update read(EdgeTrain.Result result) {
    return new UpdateReader(new Configuration()).read(result.updateFile());
  }

  @Test
  void aSiteTrainsOnPseudoLabelsAndKeepsThemAcrossACrash() {
    Store store = federation(true, true);
    EdgeTrain first =
        new EdgeTrain(store, "a", site).stateDir(dir.resolve("state")).unlabeled(true);
    EdgeTrain.Result result = first.execute();
    Update u = read(result);
    assertEquals(Boolean.TRUE, u.getTrainedWithoutLabels());
    // the site's hidden labels audit the pseudo-labels; well separated classes: all right
    assertEquals(1.0, u.getPseudoLabelAccuracy(), 1e-12);
    assertEquals(1.0, u.getAuditZeroShotAccuracy(), 1e-12);
    assertNotNull(u.getAuditAccuracy());
    long trained = u.getLabelHistogram().stream().mapToLong(Long::longValue).sum();
    assertEquals(result.withoutLabels().selected(), trained);
    assertEquals(15, trained, "half of every pseudo-class's 10 rows, rounded up: 3 x 5");
    SiteState kept = first.siteState();
    assertEquals(1, kept.revision());
    float[] soft = kept.vector(0, PseudoLabels.SOFT_LABELS);
    assertEquals(site.size() * CLASSES, soft.length);

    // the site trains again and crashes before its upload: nothing is committed
    EdgeTrain crashing =
        new EdgeTrain(store, "a", site)
            .stateDir(dir.resolve("state"))
            .unlabeled(true)
            .beforeUpload(
                () -> {
                  throw new IllegalStateException("power cut");
                });
    IllegalStateException e = assertThrows(IllegalStateException.class, crashing::execute);
    assertEquals("power cut", e.getMessage());
    SiteState after = crashing.siteState();
    assertEquals(1, after.revision(), "the crashed run committed nothing");
    assertArrayEquals(soft, after.vector(0, PseudoLabels.SOFT_LABELS), 0f);

    // the rerun averages from the kept soft labels (the same model: they stay where they were)
    EdgeTrain rerun =
        new EdgeTrain(store, "a", site).stateDir(dir.resolve("state")).unlabeled(true);
    rerun.execute();
    SiteState again = rerun.siteState();
    assertEquals(2, again.revision());
    assertArrayEquals(soft, again.vector(0, PseudoLabels.SOFT_LABELS), 1e-6f);
  }

  @Test
  void rowsWithoutLabelsTrainThisWayAndASpecRequiringLabelsRefusesThem() {
    int[] none = new int[site.size()];
    java.util.Arrays.fill(none, Dataset.UNLABELLED);
    Dataset unlabelled = Dataset.of("site.parquet", site.features(), none, DIMENSION);
    Store store = federation(true, true);
    Update u = read(new EdgeTrain(store, "b", unlabelled).stateDir(dir.resolve("state")).execute());
    assertEquals(Boolean.TRUE, u.getTrainedWithoutLabels());
    assertNull(u.getPseudoLabelAccuracy(), "no labels, no audit");
    assertNull(u.getAuditAccuracy());

    Store strict = Store.open(dir.resolve("strict").toUri().toString());
    new Federation(strict).dimension(DIMENSION).classes(CLASSES).execute();
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> new EdgeTrain(strict, "b", unlabelled).stateDir(dir.resolve("s2")).execute());
    assertEquals(
        "site.parquet: has rows without a label but the federation spec requires labels (the"
            + " operator allows training without them with: fedlake spec set --labels optional)",
        e.getMessage());
  }

  @Test
  void trainingWithoutLabelsNeedsAZeroShotStart() {
    Store store = federation(true, false);
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                new EdgeTrain(store, "a", site)
                    .stateDir(dir.resolve("state"))
                    .unlabeled(true)
                    .execute());
    assertEquals(
        "Cannot train without labels: the round-0 model has no weights for class 0: training"
            + " without labels needs a zero-shot start (init --bootstrap zero-shot --text FILE)",
        e.getMessage());
    assertTrue(true);
  }
}
