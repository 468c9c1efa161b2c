package fedlake.core.model;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.schema.Model;
import java.util.List;
import org.junit.jupiter.api.Test;

class CacheModelTest {
  /**
   * 2 classes x 2 dimensions. Head: W = [[0, 0], [0.1, 0]], b = (0.5, 0), logit scale 10. Keys: (1,
   * 0) of class 0 and (0, 2) of class 1 (length 2: scored by its direction (0, 1)); alpha 2, beta
   * 3.
   */
  private static CacheModel twoKeys() {
    Head head = new Head(2, 2, 10f, floats(0, 0, 0.1, 0), floats(0.5, 0));
    return new CacheModel(head, floats(1, 0, 0, 2), new int[] {0, 1}, 2f, 3f);
  }

  @Test
  void logitsOfTwoKeysWorkedOutByHand() {
    double[] logits = new double[2];
    double[] affinity = new double[2];
    twoKeys().logits(floats(0.6, 0.8), 0, logits, affinity);
    // cos = 0.6 and 0.8: affinities exp(-3 * 0.4) = 0.3011942119 and exp(-3 * 0.2) = 0.5488116361
    assertArrayEquals(new double[] {0.3011942119122021, 0.5488116360940264}, affinity, 1e-7);
    // class 0: bias 0.5 + 2 * 0.3011942119 = 1.1023884238; class 1: 10 * 0.1 * 0.6 + 2 *
    // 0.5488116361 = 1.6976232722
    assertArrayEquals(new double[] {1.1023884238244044, 1.6976232721880526}, logits, 1e-6);
  }

  @Test
  void evaluatesAccuracyAndCrossEntropy() {
    Dataset data = Dataset.of("two rows", floats(0.6, 0.8, 1, 0), new int[] {1, 0}, 2);
    Head.Evaluation evaluation = twoKeys().evaluate(data);
    // row 2 (x = (1, 0)): logits (0.5 + 2 * 1, 10 * 0.1 + 2 * exp(-3)) = (2.5, 1.0995741367); both
    // rows right;
    // losses log(e^z0 + e^z1) - z_label = 0.4391790506 and 0.2203331817, mean 0.3297561161
    assertEquals(2, evaluation.examples());
    assertEquals(1.0, evaluation.accuracy(), 0.0);
    assertEquals(0.32975611613703926, evaluation.loss(), 1e-6);
  }

  @Test
  void aZeroHeadScoresWithTheCacheAlone() {
    CacheModel cache =
        new CacheModel(Head.zeros(2, 2, 10f), floats(1, 0, 0, 1), new int[] {0, 1}, 1f, 5.5f);
    double[] logits = new double[2];
    cache.logits(floats(0, 1), 0, logits);
    // cos 0 and 1: exp(-5.5) and exp(0)
    assertArrayEquals(new double[] {Math.exp(-5.5), 1.0}, logits, 1e-7);
  }

  @Test
  void initialCacheModelRoundTripsThroughTheSchema() {
    Model model = Models.initialCache(twoKeys(), 1, "synthetic", true, 5L);
    assertEquals(Models.CACHE, model.getKind());
    assertEquals(1, model.getCluster());
    assertEquals(List.of(0, 1), model.getCacheLabels());
    assertEquals(2f, model.getCacheAlpha());
    assertEquals(3f, model.getCacheBeta());
    // control variate over weights (4), bias (2) and keys (4)
    assertEquals(10, model.getControlVariate().size());
    assertArrayEquals(floats(0, 0, 0.1, 0, 0.5, 0, 1, 0, 0, 2), Models.parameters(model), 0f);
    double[] logits = new double[2];
    Models.classifier(model).logits(floats(0.6, 0.8), 0, logits);
    assertArrayEquals(new double[] {1.1023884238244044, 1.6976232721880526}, logits, 1e-6);
    // a change of a key changes the version
    Model other =
        Models.initialCache(
            new CacheModel(twoKeys().head(), floats(1, 0, 0, 3), new int[] {0, 1}, 2f, 3f),
            1,
            "synthetic",
            true,
            5L);
    assertEquals(false, model.getVersion().equals(other.getVersion()));
  }

  @Test
  void classifierOfAHeadModelIsItsHead() {
    Model model = Models.initialHead(twoKeys().head(), 0, "init", false, 0L);
    double[] logits = new double[2];
    Models.classifier(model).logits(floats(0.6, 0.8), 0, logits);
    assertArrayEquals(new double[] {0.5, 0.6}, logits, 1e-6);
  }

  @Test
  void unknownKindIsNamed() {
    Model model = Models.initialHead(Head.zeros(2, 2, 10f), 0, "init", false, 0L);
    model.setKind("forest");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Models.classifier(model));
    assertEquals(
        "Model " + model.getVersion() + " has unknown kind 'forest' (expected 'head' or 'cache')",
        e.getMessage());
    IllegalArgumentException notCache =
        assertThrows(
            IllegalArgumentException.class,
            () -> Models.cache(Models.initialHead(Head.zeros(2, 2, 10f), 0, "init", false, 0L)));
    assertEquals(
        true,
        notCache.getMessage().endsWith("is a 'head' model, not a cache model"),
        notCache.getMessage());
  }

  @Test
  void cacheOfDatasetChecksTheKeys() {
    Dataset keys = Dataset.of("keys.parquet", floats(3, 4, 0, 1), new int[] {1, 2}, 2);
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> Models.cacheOf(keys, Head.zeros(2, 2, 10f), 1f, 5.5f));
    assertEquals(
        "keys.parquet: row 1 has label 2 but the model has 2 classes (0..1)", e.getMessage());
    Dataset wide = Dataset.of("wide.parquet", floats(1, 0, 0), new int[] {0}, 3);
    InvalidInputException dimension =
        assertThrows(
            InvalidInputException.class,
            () -> Models.cacheOf(wide, Head.zeros(2, 2, 10f), 1f, 5.5f));
    assertEquals("wide.parquet: keys have dimension 3, the model has 2", dimension.getMessage());
    // rows are normalised on the way in: (3, 4) becomes (0.6, 0.8)
    CacheModel cache =
        Models.cacheOf(
            Dataset.of("keys.parquet", floats(3, 4), new int[] {1}, 2),
            Head.zeros(2, 2, 10f),
            1f,
            5.5f);
    assertArrayEquals(floats(0.6, 0.8), cache.keys(), 1e-7f);
  }

  @Test
  void defaultAlphaKeepsTipAdaptersBalance() {
    assertEquals(
        1f,
        CacheModel.defaultAlpha(false, 10f, 16),
        0f,
        "Tip-Adapter's alpha at its 16 keys a class");
    assertEquals(
        4f,
        CacheModel.defaultAlpha(false, 10f, 4),
        0f,
        "a quarter of the keys: four times the weight");
    assertEquals(
        0.1f,
        CacheModel.defaultAlpha(true, 10f, 16),
        1e-7f,
        "text logits at scale 10 instead of CLIP's 100");
    assertEquals(0.4f, CacheModel.defaultAlpha(true, 10f, 4), 1e-7f);
    assertEquals(2.5, CacheModel.keysPerClass(new int[] {0, 0, 3, 3, 3}), 0.0);
  }

  @Test
  void rejectsKeysWithoutMatchingLabels() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new CacheModel(Head.zeros(2, 2, 10f), floats(1, 0, 0), new int[] {0, 1}, 1f, 1f));
    assertEquals("Cache of 2 keys x 2 dimensions needs 4 key values, got 3", e.getMessage());
  }
}
