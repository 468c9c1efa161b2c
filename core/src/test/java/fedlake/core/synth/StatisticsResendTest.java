package fedlake.core.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Statistics sent only when they change: the store keeps each site's latest accepted statistics, an
 * update that claims their fingerprint is calibrated with them, a changed one replaces them, a
 * forged one contributes nothing, and the Gaussian cache publishes the same model as pooling again.
 */
class StatisticsResendTest {
  private static final int CLASSES = 6;
  private static final int DIMENSION = 12;
  private static final String FORGED = "ab".repeat(32);

  @TempDir Path dir;
  private final GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 1.6, 5);

  /** How an update deals with class statistics. */
  enum Mode {
    SEND,
    CLAIM,
    FORGED,
    NONE
  }

  private Store federation(String name) {
    Store store = Store.open(dir.resolve(name).toUri().toString());
    new Federation(store).dimension(DIMENSION).classes(CLASSES).execute();
    return store;
  }

  private static List<ClassStatistics> statistics(Dataset data) {
    return ClassMoments.of(data, CLASSES, ClassMoments.Spread.COVARIANCE).stream()
        .map(ClassMoments::toAvro)
        .toList();
  }

  private void upload(Store store, String site, Dataset data, Mode mode) throws IOException {
    Model base = store.readModel(store.requireLatest().round(), 0);
    LocalTrainer.Result trained =
        LocalTrainer.train(
            Models.head(base),
            data,
            TrainSettings.defaults(1).withEpochs(20),
            LocalTrainer.Progress.NONE);
    List<ClassStatistics> statistics = statistics(data);
    store.writeUpdate(
        Fixtures.update(base, site, data.size(), trained.head().weights(), trained.head().bias())
            .setLabelHistogram(FloatArrays.asList(data.labelHistogram(CLASSES)))
            .setClassStatistics(mode == Mode.SEND ? statistics : null)
            .setStatisticsFingerprint(
                switch (mode) {
                  case SEND, CLAIM -> SiteStatistics.fingerprint(statistics);
                  case FORGED -> FORGED;
                  case NONE -> null;
                })
            .build());
  }

  private static Dataset classes(Dataset all, int from, int to) {
    return all.select(
        IntStream.range(0, all.size())
            .filter(r -> all.label(r) >= from && all.label(r) < to)
            .toArray());
  }

  private Dataset siteA() {
    return classes(generator.sample(10, 1, "a"), 0, 3);
  }

  private Dataset siteB() {
    return classes(generator.sample(30, 2, "b"), 3, 6);
  }

  /** Site b after its data changed: other rows of the same classes. */
  private Dataset siteBChanged() {
    return classes(generator.sample(30, 7, "b2"), 3, 6);
  }

  private Dataset siteC() {
    return classes(generator.sample(5, 3, "c"), 0, 6);
  }

  private static Ccvr ccvr(boolean cache) {
    return new Ccvr().perClass(50).epochs(10).seed(3).cache(cache);
  }

  private static RoundResult round(Store store, boolean cache) {
    RoundResult result = new RoundJob(store).calibration(ccvr(cache)).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    return result;
  }

  /** The calibration message with its timings replaced by "T". */
  private static String message(RoundResult result) {
    RoundHistory h = result.history().get(0);
    return h.getCalibrationMessage().replaceAll("\\d+\\.\\d+ s", "T s");
  }

  private static float[] published(RoundResult result) {
    return Models.parameters(result.published().get(0));
  }

  private static String held(Store store, String site) {
    return ParquetFiles.footer(new StatisticsStore(store).file(site), store.conf())
        .get(StatisticsStore.FINGERPRINT_KEY);
  }

  @Test
  void fingerprintIsAHashOfTheFloats() {
    List<ClassStatistics> a = statistics(siteA());
    assertEquals(64, SiteStatistics.fingerprint(a).length());
    assertEquals(SiteStatistics.fingerprint(a), SiteStatistics.fingerprint(statistics(siteA())));
    ClassStatistics first = ClassStatistics.newBuilder(a.get(0)).build();
    float[] mean = FloatArrays.toArray(first.getMean());
    mean[3] = Math.nextUp(mean[3]);
    first.setMean(FloatArrays.asList(mean));
    List<ClassStatistics> nudged = new java.util.ArrayList<>(a);
    nudged.set(0, first);
    assertFalse(
        SiteStatistics.fingerprint(a).equals(SiteStatistics.fingerprint(nudged)),
        "one ulp of one mean changes it");
    // the fingerprint of no statistics at all (SHA-256 of the 4 bytes 00 00 00 00)
    assertEquals(
        "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119",
        SiteStatistics.fingerprint(List.of()));
  }

  @Test
  void unchangedStatisticsComeFromTheStoreChangedOnesReplaceThemForgedOnesCountForNothing()
      throws IOException {
    // round 0 everywhere: both sites send their statistics; the store keeps them
    Store claimed = federation("claimed");
    Store resent = federation("resent");
    for (Store store : List.of(claimed, resent)) {
      upload(store, "site-a", siteA(), Mode.SEND);
      upload(store, "site-b", siteB(), Mode.SEND);
      RoundResult first = round(store, true);
      assertEquals(
          "CCVR: re-fitted the head from the aggregate on 50 virtual embeddings per class of 6 classes (full covariance "
              + "pooled from 2 site(s): 2 sent with the update, 0 held by the store), 10 epoch(s) (T s pooling, T s factoring, T s caching, "
              + "T s sampling, T s fitting)",
          message(first));
      assertEquals(SiteStatistics.fingerprint(statistics(siteA())), held(store, "site-a"));
      assertEquals(SiteStatistics.fingerprint(statistics(siteB())), held(store, "site-b"));
      assertEquals(
          "0",
          ParquetFiles.footer(new StatisticsStore(store).file("site-b"), store.conf())
              .get(StatisticsStore.ROUND_KEY));
    }
    assertArrayEquals(
        Models.parameters(claimed.readModel(1, 0)), Models.parameters(resent.readModel(1, 0)));

    // round 1: site-a only claims its unchanged statistics (or re-sends them), site-b's changed,
    // site-c forges a fingerprint
    upload(claimed, "site-a", siteA(), Mode.CLAIM);
    upload(claimed, "site-b", siteBChanged(), Mode.SEND);
    upload(claimed, "site-c", siteC(), Mode.FORGED);
    upload(resent, "site-a", siteA(), Mode.SEND);
    upload(resent, "site-b", siteBChanged(), Mode.SEND);
    upload(resent, "site-c", siteC(), Mode.NONE);
    RoundResult fromStore = round(claimed, true);
    RoundResult fromUpdates = round(resent, true);
    assertEquals(
        "CCVR: re-fitted the head from the aggregate on 50 virtual embeddings per class of 6 classes (full covariance "
            + "pooled from 2 site(s): 1 sent with the update, 1 held by the store; 1 site(s) claimed statistics the store does not hold, "
            + "none used from them: [site-c]), 10 epoch(s) (T s pooling, T s factoring, T s caching, T s sampling, T s fitting)",
        message(fromStore));
    assertEquals(
        "CCVR: re-fitted the head from the aggregate on 50 virtual embeddings per class of 6 classes (full covariance "
            + "pooled from 2 site(s): 2 sent with the update, 0 held by the store), 10 epoch(s) (T s pooling, T s factoring, T s caching, "
            + "T s sampling, T s fitting)",
        message(fromUpdates));
    assertEquals(
        3,
        fromStore.history().get(0).getParticipants(),
        "site-c's parameters count, its statistics do not");
    assertArrayEquals(
        published(fromUpdates),
        published(fromStore),
        "the stored statistics pool exactly like the re-sent ones");
    // site-b's changed statistics replaced the stored ones; site-c's forged claim wrote nothing
    assertEquals(SiteStatistics.fingerprint(statistics(siteBChanged())), held(claimed, "site-b"));
    assertEquals(
        "1",
        ParquetFiles.footer(new StatisticsStore(claimed).file("site-b"), claimed.conf())
            .get(StatisticsStore.ROUND_KEY));
    assertEquals(SiteStatistics.fingerprint(statistics(siteA())), held(claimed, "site-a"));
    assertNull(new StatisticsStore(claimed).fingerprint("site-c"));
  }

  @Test
  void onlyForgedClaimsSkipCalibrationAndSaySo() throws IOException {
    Store store = federation("forged");
    upload(store, "site-a", siteA(), Mode.FORGED);
    upload(store, "site-b", siteB(), Mode.NONE);
    RoundResult result = round(store, true);
    assertFalse(result.history().get(0).getCalibrated());
    assertEquals(
        "calibration skipped: no accepted update carried class statistics or the fingerprint of statistics the store holds; "
            + "1 site(s) claimed statistics the store does not hold, none used from them: [site-a]",
        message(result));
  }

  @Test
  void aFingerprintThatDoesNotMatchTheSentStatisticsRejectsTheUpdate() throws IOException {
    Store store = federation("mismatch");
    Model base = store.readModel(0, 0);
    Dataset a = siteA();
    List<ClassStatistics> statistics = statistics(a);
    store.writeUpdate(
        Fixtures.update(
                base, "site-a", a.size(), new float[CLASSES * DIMENSION], new float[CLASSES])
            .setLabelHistogram(FloatArrays.asList(a.labelHistogram(CLASSES)))
            .setClassStatistics(statistics)
            .setStatisticsFingerprint(FORGED)
            .build());
    upload(store, "site-b", siteB(), Mode.SEND);
    RoundResult result = round(store, true);
    assertEquals(1, result.accepted());
    assertEquals(
        "statisticsFingerprint "
            + FORGED
            + " does not match the class statistics the update carries ("
            + SiteStatistics.fingerprint(statistics)
            + ")",
        result.audit().stream()
            .filter(x -> "site-a".equals(x.getSite()))
            .findFirst()
            .orElseThrow()
            .getReason());
  }

  @Test
  void cachedGaussiansPublishTheSameModelAsPoolingAgain() throws IOException {
    Store cached = federation("cached");
    Store uncached = federation("uncached");
    for (int round = 0; round < 3; round++) {
      Mode mode = round == 0 ? Mode.SEND : Mode.CLAIM;
      for (Store store : List.of(cached, uncached)) {
        upload(store, "site-a", siteA(), mode);
        upload(store, "site-b", siteB(), mode);
      }
      if (round == 2) {
        StatisticsStore.forgetInMemory(); // as a new process: the cache comes from the store file
      }
      RoundResult withCache = round(cached, true);
      RoundResult without = round(uncached, false);
      assertArrayEquals(published(without), published(withCache), "round " + round);
      String sites =
          round == 0
              ? "2 sent with the update, 0 held by the store"
              : "0 sent with the update, 2 held by the store";
      String prefix =
          "CCVR: re-fitted the head from the aggregate on 50 virtual embeddings per class of 6 classes (full covariance "
              + "pooled from 2 site(s): "
              + sites
              + "), 10 epoch(s) (";
      assertEquals(
          prefix
              + (round == 0
                  ? "T s pooling, T s factoring, T s caching, T s sampling, T s fitting)"
                  : "Gaussians reused from the cache (T s to load), T s sampling, T s fitting)"),
          message(withCache));
      assertEquals(
          prefix + "T s pooling, T s factoring, T s not cached, T s sampling, T s fitting)",
          message(without));
    }
    assertTrue(cached.fileSystem().exists(new StatisticsStore(cached).gaussiansFile(0)));
    assertFalse(uncached.fileSystem().exists(new StatisticsStore(uncached).gaussiansFile(0)));
  }
}
