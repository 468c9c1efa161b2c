package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.model.FloatArrays;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UpdateValidatorTest {
  private static final String FILE = "file:/store/updates/round-000000/site-a--1.parquet";

  /** Round 0, cluster 0, 2 classes x 2 dimensions. */
  private final Model base = Fixtures.headModel(0, 2, 2, floats(0.5, 0, 0, 0.5), floats(0, 0));

  private final UpdateValidator validator = new UpdateValidator(0, Map.of(0, base), null, 1e4);

  /** Valid: differs from the base by (3, 0, 0, 0 | 0, 4), a change of norm 5. */
  private Update.Builder good() {
    return Fixtures.update(base, "site-a", 10, floats(3.5, 0, 0, 0.5), floats(0, 4));
  }

  private String reason(Update.Builder update) {
    return reason(validator, update);
  }

  private static String reason(UpdateValidator validator, Update.Builder update) {
    UpdateCheck check = validator.check(FILE, 1234, update.build());
    assertEquals(FILE, check.file());
    assertEquals(1234, check.fileBytes());
    return check.reason();
  }

  @Test
  void acceptsAValidUpdateAndMeasuresItsChange() {
    UpdateCheck check = validator.check(FILE, 1234, good().build());
    assertTrue(check.accepted(), "rejected: " + check.reason());
    assertNull(check.reason());
    assertEquals(5.0, check.updateNorm(), 0.0);
    assertEquals("site-a", check.site());
    assertEquals(0, check.cluster());
    assertEquals(10, check.numExamples());
    assertEquals(base.getCreatedTime().toEpochMilli() + 1_000, check.createdTime());
    assertEquals(0.5, check.localLoss(), 0.0);
    assertEquals(0.75, check.localAccuracy(), 0.0);
  }

  @Test
  void wrongRound() {
    assertEquals(
        "wrong round: update is for round 1, the current round is 0", reason(good().setRound(1)));
  }

  @Test
  void staleBaseVersion() {
    assertEquals(
        "stale base model: trained from r0-c0-0123456789ab, the current model is "
            + base.getVersion(),
        reason(good().setBaseModelVersion("r0-c0-0123456789ab")));
  }

  @Test
  void kindMismatch() {
    assertEquals(
        "model kind mismatch: update is a 'cache' model, the federation's model is 'head'",
        reason(good().setKind("cache")));
  }

  @Test
  void dimensionMismatch() {
    assertEquals(
        "dimension mismatch: update has 3, model expects 2", reason(good().setDimension(3)));
  }

  @Test
  void classCountMismatch() {
    assertEquals(
        "class count mismatch: update has 5, model expects 2", reason(good().setClassCount(5)));
  }

  @Test
  void wrongWeightLength() {
    assertEquals(
        "weights has 3 values, model expects 4",
        reason(good().setWeights(FloatArrays.asList(floats(1, 2, 3)))));
  }

  @Test
  void wrongBiasLength() {
    assertEquals(
        "bias has 1 values, model expects 2",
        reason(good().setBias(FloatArrays.asList(floats(1)))));
  }

  @Test
  void cacheKeysOnAHead() {
    assertEquals(
        "cacheKeys has 2 values, model expects 0",
        reason(good().setCacheKeys(FloatArrays.asList(floats(1, 0)))));
  }

  @Test
  void nanParameter() {
    assertEquals(
        "non-finite parameter NaN at index 1",
        reason(good().setWeights(FloatArrays.asList(floats(0, Double.NaN, 0, 0)))));
  }

  @Test
  void infiniteBias() {
    assertEquals(
        "non-finite parameter -Infinity at index 5",
        reason(good().setBias(FloatArrays.asList(floats(0, Double.NEGATIVE_INFINITY)))));
  }

  @Test
  void hugeValueOverTheLimit() {
    assertEquals(
        "parameter 20000.0 at index 2 exceeds the limit of 10000.0 in absolute value",
        reason(good().setWeights(FloatArrays.asList(floats(0, 0, 20000, 0)))));
    assertEquals(
        "parameter -10000.001 at index 4 exceeds the limit of 10000.0 in absolute value",
        reason(good().setBias(FloatArrays.asList(floats(-10000.001, 0)))));
    UpdateValidator strict = new UpdateValidator(0, Map.of(0, base), null, 2.0);
    assertEquals(
        "parameter 3.5 at index 0 exceeds the limit of 2.0 in absolute value",
        reason(strict, good()));
    assertNull(
        reason(good().setWeights(FloatArrays.asList(floats(10000, -10000, 0, 0)))),
        "the limit itself is allowed");
  }

  @Test
  void numExamplesMustBePositive() {
    assertEquals("numExamples must be positive, got 0", reason(good().setNumExamples(0)));
    assertEquals("numExamples must be positive, got -3", reason(good().setNumExamples(-3)));
    assertEquals(
        "numExamples 549755813888 is implausibly large", reason(good().setNumExamples(1L << 39)));
  }

  @Test
  void histogramOfTheWrongLength() {
    assertEquals(
        "labelHistogram has 3 entries, model has 2 classes",
        reason(good().setLabelHistogram(FloatArrays.asList(new long[] {5, 5, 0}))));
  }

  @Test
  void histogramWithANegativeCount() {
    assertEquals(
        "labelHistogram has negative count -1 for class 1",
        reason(good().setLabelHistogram(FloatArrays.asList(new long[] {10, -1}))));
  }

  @Test
  void histogramCountingMoreThanNumExamples() {
    assertEquals(
        "labelHistogram counts 11 examples, more than numExamples 10",
        reason(good().setLabelHistogram(FloatArrays.asList(new long[] {6, 5}))));
  }

  @Test
  void unknownSiteWithARegistry() {
    UpdateValidator registered =
        new UpdateValidator(0, Map.of(0, base), Set.of("site-a", "site-b"), 1e4);
    assertNull(reason(registered, good()));
    assertEquals(
        "unknown site 'site-z': not registered in the federation",
        reason(registered, good().setSite("site-z")));
  }

  @Test
  void invalidSiteId() {
    String alphabet =
        "site ids are 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit,"
            + " without '--'";
    assertEquals("invalid site id '../other': " + alphabet, reason(good().setSite("../other")));
    assertEquals("invalid site id '.x': " + alphabet, reason(good().setSite(".x")));
    assertEquals("invalid site id '_x': " + alphabet, reason(good().setSite("_x")));
    assertEquals("invalid site id 'a--b': " + alphabet, reason(good().setSite("a--b")));
  }

  @Test
  void createdTimeMustLieBetweenTheBaseModelAndNowWithinTheSkew() {
    long created = base.getCreatedTime().toEpochMilli();
    UpdateValidator timed =
        new UpdateValidator(0, Map.of(0, base), null, 1e4).withTimeBounds(created + 60_000, 5_000);
    assertNull(reason(timed, good().setCreatedTime(base.getCreatedTime().minusMillis(5_000))));
    assertNull(reason(timed, good().setCreatedTime(base.getCreatedTime().plusMillis(65_000))));
    assertEquals(
        "createdTime 2100-01-01T00:00:00Z lies in the future: the round job's clock says "
            + java.time.Instant.ofEpochMilli(created + 60_000)
            + " and allows 5 s of clock skew (robustness.maxClockSkewSeconds)",
        reason(timed, good().setCreatedTime(java.time.Instant.parse("2100-01-01T00:00:00Z"))));
    assertEquals(
        "createdTime "
            + base.getCreatedTime().minusMillis(5_001)
            + " precedes its base model "
            + base.getVersion()
            + " (created "
            + base.getCreatedTime()
            + ") by more than the 5 s of clock skew allowed (robustness.maxClockSkewSeconds)",
        reason(timed, good().setCreatedTime(base.getCreatedTime().minusMillis(5_001))));
  }

  @Test
  void unknownCluster() {
    assertEquals(
        "unknown cluster 3: round 0 has models for clusters [0]", reason(good().setCluster(3)));
  }

  @Test
  void nonFiniteLocalMetrics() {
    assertEquals("non-finite localLoss NaN", reason(good().setLocalLoss(Double.NaN)));
    assertEquals(
        "non-finite localAccuracy Infinity",
        reason(good().setLocalAccuracy(Double.POSITIVE_INFINITY)));
  }

  /** good() with 4 of its 10 examples in class 1, as the statistics below report. */
  private Update.Builder withStatistics(ClassStatistics... statistics) {
    return good().setLabelHistogram(List.of(6L, 4L)).setClassStatistics(List.of(statistics));
  }

  @Test
  void classStatisticsAreChecked() {
    ClassStatistics ok =
        new ClassStatistics(
            1,
            4L,
            FloatArrays.asList(floats(0.6, 0.8)),
            FloatArrays.asList(floats(0.1, 0.1)),
            null);
    assertNull(reason(withStatistics(ok)));
    ClassStatistics outside = ClassStatistics.newBuilder(ok).setClassId(2).build();
    assertEquals("class statistics for class 2 outside 0..1", reason(withStatistics(outside)));
    assertEquals("class statistics for class 1 appear twice", reason(withStatistics(ok, ok)));
    ClassStatistics shortMean =
        ClassStatistics.newBuilder(ok).setMean(FloatArrays.asList(floats(1))).build();
    assertEquals("class 1 mean has 1 values, model expects 2", reason(withStatistics(shortMean)));
    ClassStatistics negative =
        ClassStatistics.newBuilder(ok).setVariance(FloatArrays.asList(floats(0.1, -0.5))).build();
    assertEquals(
        "class statistics for class 1 hold a negative variance -0.5",
        reason(withStatistics(negative)));
    ClassStatistics negativeCount = ClassStatistics.newBuilder(ok).setCount(-3L).build();
    assertEquals(
        "class statistics for class 1 have count -3 (must be positive)",
        reason(withStatistics(negativeCount)));
    ClassStatistics nan =
        ClassStatistics.newBuilder(ok).setMean(FloatArrays.asList(floats(0.6, Double.NaN))).build();
    assertEquals(
        "class statistics for class 1 hold a non-finite value NaN", reason(withStatistics(nan)));
    ClassStatistics infinite =
        ClassStatistics.newBuilder(ok)
            .setCovariance(FloatArrays.asList(floats(0.1, 0, Double.POSITIVE_INFINITY, 0.1)))
            .build();
    assertEquals(
        "class statistics for class 1 hold a non-finite value Infinity",
        reason(withStatistics(infinite)));
    ClassStatistics huge =
        ClassStatistics.newBuilder(ok).setMean(FloatArrays.asList(floats(3.5, 0.8))).build();
    assertEquals(
        "class statistics for class 1 hold 3.5, impossible for unit-length embeddings (|value| <= 1)",
        reason(withStatistics(huge)));
    ClassStatistics shortCovariance =
        ClassStatistics.newBuilder(ok)
            .setCovariance(FloatArrays.asList(floats(0.1, 0, 0.1)))
            .build();
    assertEquals(
        "class 1 covariance has 3 values, model expects 4",
        reason(withStatistics(shortCovariance)));
    ClassStatistics moreThanItHas = ClassStatistics.newBuilder(ok).setCount(5L).build();
    assertEquals(
        "class statistics for class 1 count 5 examples, labelHistogram has 4",
        reason(withStatistics(moreThanItHas)));
  }

  @Test
  void rejectionKeepsTheFactsForTheAudit() {
    UpdateCheck check = validator.check(FILE, 99, good().setRound(4).build());
    assertEquals("site-a", check.site());
    assertEquals(10, check.numExamples());
    assertNull(check.updateNorm());
  }

  @Test
  void limitMustBePositive() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new UpdateValidator(0, Map.of(0, base), null, 0));
    assertEquals("max-abs-value must be positive, got 0.0", e.getMessage());
  }
}
