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
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.round.CalibrationStatistics;
import fedlake.core.round.Calibrator;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.Store;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CCVR in the round job: two sites with disjoint classes (0-2 and 3-5, the second site three times
 * larger) train locally; FedAvg of their heads favours the large site's classes, calibration on
 * virtual features from their pooled statistics removes that.
 */
class CcvrTest {
  private static final int CLASSES = 6;
  private static final int DIMENSION = 12;

  @TempDir Path dir;
  private Store store;
  private Model base;
  private final GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 1.6, 5);
  private Dataset probe;

  @BeforeEach
  void init() {
    store = Store.open(dir.resolve("store").toUri().toString());
    new Federation(store).dimension(DIMENSION).classes(CLASSES).execute();
    base = store.readModel(0, 0);
    probe = generator.sample(40, 99, "probe");
  }

  private void upload(String site, Dataset data, boolean statistics) throws IOException {
    LocalTrainer.Result trained =
        LocalTrainer.train(
            Models.head(base),
            data,
            TrainSettings.defaults(1).withEpochs(20),
            LocalTrainer.Progress.NONE);
    long[] histogram = data.labelHistogram(CLASSES);
    store.writeUpdate(
        Fixtures.update(base, site, data.size(), trained.head().weights(), trained.head().bias())
            .setLabelHistogram(FloatArrays.asList(histogram))
            .setClassStatistics(
                statistics
                    ? ClassMoments.of(data, CLASSES, ClassMoments.Spread.COVARIANCE).stream()
                        .map(ClassMoments::toAvro)
                        .toList()
                    : null)
            .build());
  }

  private Dataset classes(Dataset all, int from, int to) {
    return all.select(
        java.util.stream.IntStream.range(0, all.size())
            .filter(r -> all.label(r) >= from && all.label(r) < to)
            .toArray());
  }

  private Dataset siteA() {
    return classes(generator.sample(10, 1, "a"), 0, 3);
  }

  private Dataset siteB() {
    return classes(generator.sample(30, 2, "b"), 3, 6);
  }

  private void uploadSkewedSites(boolean statistics) throws IOException {
    upload("site-a", siteA(), statistics);
    upload("site-b", siteB(), statistics);
  }

  private Ccvr ccvr() {
    return new Ccvr().perClass(100).epochs(40).seed(3).probe(probe);
  }

  @Test
  void calibrationRefitsTheSkewedAverageAndRecordsItsEffect() throws IOException {
    uploadSkewedSites(true);
    RoundResult result = new RoundJob(store).calibration(ccvr()).execute();
    RoundHistory h = result.history().get(0);
    assertTrue(h.getCalibrated());
    double before = h.getProbeAccuracyBeforeCalibration();
    double after = h.getProbeAccuracy();
    String figures =
        String.format(
            Locale.ROOT,
            "probe accuracy %.4f -> %.4f; %s",
            before,
            after,
            h.getCalibrationMessage());
    // reference: one head trained on both sites' rows together
    Dataset a = siteA();
    Dataset b = siteB();
    float[] features = java.util.Arrays.copyOf(a.features(), (a.size() + b.size()) * DIMENSION);
    System.arraycopy(b.features(), 0, features, a.size() * DIMENSION, b.size() * DIMENSION);
    int[] labels =
        java.util.stream.IntStream.concat(
                java.util.Arrays.stream(a.labels()), java.util.Arrays.stream(b.labels()))
            .toArray();
    double centralised =
        LocalTrainer.train(
                Models.head(base),
                Dataset.of("union", features, labels, DIMENSION),
                TrainSettings.defaults(1).withEpochs(20),
                LocalTrainer.Progress.NONE)
            .head()
            .evaluate(probe)
            .accuracy();
    figures += String.format(Locale.ROOT, "; centralised head %.4f", centralised);
    assertTrue(after >= before + 0.15, figures);
    assertTrue(after >= centralised - 0.05, figures);
    assertEquals(
        after,
        Models.head(result.published().get(0)).evaluate(probe).accuracy(),
        0.0,
        "the published model is the calibrated one");
    assertTrue(
        h.getCalibrationMessage()
            .startsWith(
                "CCVR: re-fitted the head from the aggregate on 100 virtual embeddings per class of 6 "
                    + "classes (full covariance pooled from 2 site(s): 2 sent with the update, 0 held by the store), 40 epoch(s)"),
        h.getCalibrationMessage());
    assertEquals(store.readHistory().get(0), h, "history on disk holds the calibration");
    System.out.println(figures);

    // the same uploads in another store, calibrated again: the same model (exact pooling, seeded
    // sampling)
    store = Store.open(dir.resolve("again").toUri().toString());
    new Federation(store).dimension(DIMENSION).classes(CLASSES).execute();
    uploadSkewedSites(true);
    RoundResult rerun =
        new RoundJob(store).calibration(new Ccvr().perClass(100).epochs(40).seed(3)).execute();
    assertArrayEquals(
        Models.parameters(result.published().get(0)), Models.parameters(rerun.published().get(0)));
    assertNull(rerun.history().get(0).getProbeAccuracy(), "no probe set, no probe accuracy");
  }

  @Test
  void withoutStatisticsTheAggregateIsPublishedAndHistorySaysWhy() throws IOException {
    uploadSkewedSites(false);
    RoundResult calibrated = new RoundJob(store).calibration(ccvr()).execute();
    RoundHistory h = calibrated.history().get(0);
    assertFalse(h.getCalibrated());
    assertEquals(
        "calibration skipped: no accepted update carried class statistics (sites opt in with edge train --site-stats)",
        h.getCalibrationMessage());
    assertEquals(h.getProbeAccuracyBeforeCalibration(), h.getProbeAccuracy());
    Head published = Models.head(calibrated.published().get(0));
    assertEquals(h.getProbeAccuracy(), published.evaluate(probe).accuracy(), 0.0);
  }

  @Test
  void withoutCalibrationHistoryHasNoCalibrationFields() throws IOException {
    uploadSkewedSites(true);
    RoundHistory h = new RoundJob(store).execute().history().get(0);
    assertFalse(h.getCalibrated());
    assertNull(h.getCalibrationMessage());
    assertNull(h.getProbeAccuracy());
    assertNull(h.getProbeAccuracyBeforeCalibration());
  }

  @Test
  void theRefitIsLocalTrainingOnTheVirtualSetOfTheRoundSeedAndUnreportedClassesKeepTheirRows() {
    // statistics of site a only (classes 0-2); the "aggregate" is a head trained on site b
    StatisticsPool pool =
        new StatisticsPool(DIMENSION)
            .add(ClassMoments.of(siteA(), CLASSES, ClassMoments.Spread.COVARIANCE));
    Head aggregate =
        LocalTrainer.train(
                Models.head(base),
                siteB(),
                TrainSettings.defaults(1).withEpochs(5),
                LocalTrainer.Progress.NONE)
            .head();
    float[] parameters = new float[CLASSES * DIMENSION + CLASSES];
    System.arraycopy(aggregate.weights(), 0, parameters, 0, CLASSES * DIMENSION);
    System.arraycopy(aggregate.bias(), 0, parameters, CLASSES * DIMENSION, CLASSES);
    int round = 2;
    Calibrator.Outcome outcome =
        new Ccvr()
            .perClass(30)
            .epochs(4)
            .batchSize(16)
            .seed(11)
            .calibrate(round, base, parameters, CalibrationStatistics.of(0, DIMENSION, pool));
    assertTrue(outcome.calibrated(), outcome.message());

    // the definition: 30 draws of each reported class from the stream (seed + round, class), then
    // fedlake's trainer from the aggregate, rows shuffled from seed + round
    float[] features = new float[3 * 30 * DIMENSION];
    int[] labels = new int[3 * 30];
    for (int c = 0; c < 3; c++) {
      float[] rows =
          new ClassGaussian(pool.result().get(c)).sample(30, Seeds.forClass(11 + round, c));
      System.arraycopy(rows, 0, features, c * 30 * DIMENSION, rows.length);
      java.util.Arrays.fill(labels, c * 30, (c + 1) * 30, c);
    }
    Head fitted =
        LocalTrainer.train(
                aggregate,
                Dataset.of("virtual", features, labels, DIMENSION),
                new TrainSettings(4, 16, Ccvr.LEARNING_RATE_DEFAULT, 0, 0, 11 + round, false),
                LocalTrainer.Progress.NONE)
            .head();
    float[] expected = parameters.clone();
    System.arraycopy(fitted.weights(), 0, expected, 0, 3 * DIMENSION);
    System.arraycopy(fitted.bias(), 0, expected, CLASSES * DIMENSION, 3);
    assertArrayEquals(expected, outcome.parameters());
    assertFalse(
        java.util.Arrays.equals(
            java.util.Arrays.copyOf(parameters, 3 * DIMENSION),
            java.util.Arrays.copyOf(outcome.parameters(), 3 * DIMENSION)),
        "the reported classes were re-fitted");
  }
}
