package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.model.CacheModel;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Checks of cache-model updates: kind, key count and key values are validated like any other part.
 */
class CacheUpdateValidatorTest {
  private static final String FILE = "file:/store/updates/round-000000/site-a--1.parquet";

  /**
   * Round 0: zero head of 2 classes x 2 dimensions, keys (1, 0) of class 0 and (0, 1) of class 1.
   */
  private final Model cacheBase =
      Models.initialCache(
          new CacheModel(Head.zeros(2, 2, 10f), floats(1, 0, 0, 1), new int[] {0, 1}, 1f, 5.5f),
          0,
          "synthetic",
          false,
          0L);

  /** A cache update moving key 0 to (1, 3) and key 1 to (4, 1): a change of norm 5. */
  private Update.Builder good() {
    return Fixtures.update(cacheBase, "site-a", 10, new float[4], new float[2])
        .setCacheKeys(FloatArrays.asList(floats(1, 3, 4, 1)));
  }

  private static String reason(Model base, Update.Builder update) {
    return new UpdateValidator(0, Map.of(0, base), null, 1e4)
        .check(FILE, 100, update.build())
        .reason();
  }

  @Test
  void acceptsACacheUpdateAndMeasuresTheKeysChange() {
    UpdateCheck check =
        new UpdateValidator(0, Map.of(0, cacheBase), null, 1e4).check(FILE, 100, good().build());
    assertTrue(check.accepted(), "rejected: " + check.reason());
    assertEquals(5.0, check.updateNorm(), 0.0);
  }

  @Test
  void aHeadUpdateForACacheModelIsAKindMismatch() {
    Update.Builder head =
        good().setKind(Models.HEAD).setCacheKeys(FloatArrays.asList(new float[0]));
    assertEquals(
        "model kind mismatch: update is a 'head' model, the federation's model is 'cache'",
        reason(cacheBase, head));
  }

  @Test
  void aCacheUpdateForAHeadModelIsAKindMismatch() {
    Model headBase = Fixtures.zeroModel(2, 2);
    Update.Builder cache =
        Fixtures.update(headBase, "site-a", 10, new float[4], new float[2])
            .setKind(Models.CACHE)
            .setCacheKeys(FloatArrays.asList(floats(1, 0, 0, 1)));
    assertEquals(
        "model kind mismatch: update is a 'cache' model, the federation's model is 'head'",
        reason(headBase, cache));
  }

  @Test
  void wrongKeyCountIsNamedInKeys() {
    Update.Builder three = good().setCacheKeys(FloatArrays.asList(floats(1, 0, 0, 1, 0.6, 0.8)));
    assertEquals(
        "cacheKeys has 6 values (3 keys of dimension 2), model expects 4 (2 keys of dimension 2)",
        reason(cacheBase, three));
    Update.Builder ragged = good().setCacheKeys(FloatArrays.asList(floats(1, 0, 0)));
    assertEquals(
        "cacheKeys has 3 values, model expects 4 (2 keys of dimension 2)",
        reason(cacheBase, ragged));
    Update.Builder none = good().setCacheKeys(FloatArrays.asList(new float[0]));
    assertEquals(
        "cacheKeys has 0 values (0 keys of dimension 2), model expects 4 (2 keys of dimension 2)",
        reason(cacheBase, none));
  }

  @Test
  void aNonFiniteKeyIsRejectedAtItsParameterIndex() {
    // parameters are weights (4), bias (2), keys (4): key value 1 is parameter 7
    Update.Builder nan = good().setCacheKeys(FloatArrays.asList(floats(1, Double.NaN, 0, 1)));
    assertEquals("non-finite parameter NaN at index 7", reason(cacheBase, nan));
  }

  @Test
  void aControlDeltaMustCoverTheKeys() {
    Update.Builder shortDelta = good().setControlDelta(FloatArrays.asList(new float[6]));
    assertEquals("controlDelta has 6 values, model expects 10", reason(cacheBase, shortDelta));
  }
}
