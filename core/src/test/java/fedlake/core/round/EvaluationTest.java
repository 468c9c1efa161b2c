package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.init.Federation;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Known answers of the held-out evaluation, and the round job writing it into history. */
class EvaluationTest {
  @TempDir Path dir;

  /**
   * Rows of dimension 2 with known predictions under the head W = [[1,0],[0,1],[-1,-1]], b = 0: row
   * 0 (1,0) label 0 -> 0 right; row 1 (0,1) label 1 -> 1 right; row 2 (1,0.1) label 1 -> 0 wrong;
   * row 3 (-1,-1) label 2 -> 2 right; row 4 (0,1) label 0 -> 1 wrong; row 5 label 7 is outside the
   * model's classes and not counted.
   */
  private static Dataset rows() {
    return Dataset.of(
        "rows", floats(1, 0, 0, 1, 1, 0.1, -1, -1, 0, 1, 1, 1), new int[] {0, 1, 1, 2, 0, 7}, 2);
  }

  @Test
  void headAccuracyAndPerClassAccuracyAreExact() {
    Head head = new Head(2, 3, 1f, floats(1, 0, 0, 1, -1, -1), new float[3]);
    Evaluation.Result result = Evaluation.measure(head, rows());
    assertEquals(5, result.rows());
    assertEquals(3, result.correct());
    assertEquals(0.6, result.accuracy(), 0.0);
    assertEquals(List.of(0.5, 0.5, 1.0), result.perClass());
    assertEquals(head.evaluate(rows()).accuracy(), result.accuracy(), 0.0, "Classifier agrees");
  }

  @Test
  void aClassWithoutRowsIsNaNAndCacheModelsGoThroughTheClassifier() {
    // a cache model with a zero head and one key per class: each row votes for its nearest key
    Head zero = new Head(2, 3, 1f, new float[6], new float[3]);
    CacheModel cache =
        new CacheModel(zero, floats(1, 0, 0, 1, -0.7071, -0.7071), new int[] {0, 1, 2}, 1f, 5f);
    // (1,0) -> key 0 (right), (0.2,1) -> key 1 (right), (0.9,0.1) label 1 -> key 0 (wrong)
    Dataset data = Dataset.of("cache-rows", floats(1, 0, 0.2, 1, 0.9, 0.1), new int[] {0, 1, 1}, 2);
    Evaluation.Result result = Evaluation.measure(cache, data);
    assertEquals(3, result.rows());
    assertEquals(2.0 / 3, result.accuracy(), 1e-12);
    List<Double> perClass = result.perClass();
    assertEquals(1.0, perClass.get(0), 0.0);
    assertEquals(0.5, perClass.get(1), 0.0);
    assertTrue(perClass.get(2).isNaN(), "class 2 has no row: " + perClass);
    assertEquals(cache.evaluate(data).accuracy(), result.accuracy(), 1e-12);
  }

  private static Dataset evaluationRows() {
    // under the averaged head W = identity: (1,0)->0 right, (0,1)->1 right, (1,0.2) label 1 wrong
    return Dataset.of("eval", floats(1, 0, 0, 1, 1, 0.2), new int[] {0, 1, 1}, 2);
  }

  @Test
  void aRegisteredSetPutsTestAccuracyAndTheSiteSpreadIntoHistory() throws IOException {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    new Federation(store).dimension(2).classes(2).strategy("fedavg", java.util.Map.of()).execute();
    Model base = store.readModel(0, 0);
    Evaluation.Registered registered = Evaluation.register(store, evaluationRows());
    assertTrue(registered.name().matches("eval-[0-9a-f]{16}\\.parquet"), registered.name());
    assertEquals(
        registered.file().getName(), Evaluation.registeredFile(store).orElseThrow().getName());

    float[] identity = floats(1, 0, 0, 1);
    store.writeUpdate(
        Fixtures.update(base, "a", 10, identity, new float[2]).setHoldoutAccuracy(0.5).build());
    store.writeUpdate(
        Fixtures.update(base, "b", 30, identity, new float[2]).setHoldoutAccuracy(0.9).build());
    store.writeUpdate(
        Fixtures.update(base, "c", 20, identity, new float[2]).setHoldoutAccuracy(0.8).build());
    // rejected (wrong base version): its holdout accuracy does not count
    store.writeUpdate(
        Fixtures.update(base, "d", 20, identity, new float[2])
            .setBaseModelVersion("elsewhere")
            .setHoldoutAccuracy(0.1)
            .build());
    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    RoundHistory h = store.readHistory().get(0);
    assertEquals(1, h.getRejected());
    assertEquals(2.0 / 3, h.getTestAccuracy(), 1e-12);
    assertEquals(List.of(1.0, 0.5), h.getPerClassAccuracy());
    assertEquals(3L, h.getEvaluationRows());
    assertEquals(registered.name(), h.getEvaluationSet());
    assertEquals(3, h.getSiteAccuracySites());
    assertEquals(0.5, h.getSiteAccuracyMin(), 0.0);
    assertEquals(0.8, h.getSiteAccuracyMedian(), 0.0);
    assertEquals(0.9, h.getSiteAccuracyMax(), 0.0);
  }

  @Test
  void withoutASetHistoryHasNoTestAccuracyAndAnEvenSpreadTakesTheMiddleMean() throws IOException {
    Store store = Store.open(dir.resolve("plain").toUri().toString());
    new Federation(store).dimension(2).classes(2).strategy("fedavg", java.util.Map.of()).execute();
    Model base = store.readModel(0, 0);
    store.writeUpdate(
        Fixtures.update(base, "a", 10, floats(1, 0, 0, 1), new float[2])
            .setHoldoutAccuracy(0.25)
            .build());
    store.writeUpdate(
        Fixtures.update(base, "b", 10, floats(1, 0, 0, 1), new float[2])
            .setHoldoutAccuracy(0.75)
            .build());
    store.writeUpdate(Fixtures.update(base, "e", 10, floats(1, 0, 0, 1), new float[2]).build());
    new RoundJob(store).execute();
    RoundHistory h = store.readHistory().get(0);
    assertNull(h.getTestAccuracy());
    assertNull(h.getPerClassAccuracy());
    assertNull(h.getEvaluationSet());
    assertEquals(2, h.getSiteAccuracySites(), "site e reported none");
    assertEquals(0.5, h.getSiteAccuracyMedian(), 0.0);
  }

  @Test
  void badSetsAreRefusedByNameAndABrokenStoredSetDoesNotStopTheRound() throws IOException {
    Store store = Store.open(dir.resolve("bad").toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    InvalidInputException wide =
        assertThrows(
            InvalidInputException.class,
            () ->
                Evaluation.register(
                    store, Dataset.of("wide.parquet", floats(1, 0, 0), new int[] {0}, 3)));
    assertEquals(
        "wide.parquet: rows have dimension 3 but the federation's model "
            + store.readModel(0, 0).getVersion()
            + " expects 2",
        wide.getMessage());
    InvalidInputException label =
        assertThrows(
            InvalidInputException.class,
            () ->
                Evaluation.register(
                    store, Dataset.of("labels.npy", floats(1, 0, 0, 1), new int[] {0, 2}, 2)));
    assertEquals(
        "labels.npy: row 1 has label 2 but the model has 2 classes (0..1)", label.getMessage());
    InvalidInputException unlabelled =
        assertThrows(
            InvalidInputException.class,
            () ->
                Evaluation.register(
                    store, Dataset.of("u.parquet", floats(1, 0), new int[] {-1}, 2)));
    assertEquals(
        "u.parquet: row 0 has no label; an evaluation set needs labels", unlabelled.getMessage());

    Evaluation.Registered registered = Evaluation.register(store, evaluationRows());
    Path file = Path.of(registered.file().toUri());
    Files.write(file, "not parquet".getBytes());
    Model base = store.readModel(0, 0);
    store.writeUpdate(Fixtures.update(base, "a", 10, floats(1, 0, 0, 1), new float[2]).build());
    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    RoundHistory h = store.readHistory().get(0);
    assertNull(h.getTestAccuracy());
    assertTrue(
        h.getMessage().contains("; evaluation set not used: " + registered.file() + ": "),
        h.getMessage());
  }
}
