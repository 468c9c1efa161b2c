package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.core.synth.Bootstraps;
import fedlake.core.synth.TextEmbeddings;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.UnlabeledSpec;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The prior correction (docs/unlabeled.md) through the real edge runner and round job: sites
 * without labels report the sum of their predictions under the model they received, and the round
 * job moves the published biases so that the summed mean prediction becomes uniform.
 */
class PriorCorrectionRoundTest {
  private static final int DIMENSION = 8;
  private static final int CLASSES = 3;
  private final GaussianClasses classes = new GaussianClasses(CLASSES, DIMENSION, 0.5, 11);

  @TempDir Path dir;

  private Store federation(String name, double priorCorrection) {
    Store store = Store.open(dir.resolve(name).toUri().toString());
    new Federation(store)
        .initialHead(
            Bootstraps.zeroShot(
                TextEmbeddings.of("centres", classes.centres(), CLASSES, DIMENSION), 10f, 100),
            "zero-shot")
        .strategy("fedavg")
        .adjust(
            spec ->
                spec.getClient()
                    .setUnlabeled(
                        UnlabeledSpec.newBuilder().setPriorCorrection(priorCorrection).build()))
        .execute();
    return store;
  }

  private Update unlabeled(Store store, String site, Dataset rows) {
    EdgeTrain.Result result =
        new EdgeTrain(store, site, rows)
            .stateDir(dir.resolve("state-" + site))
            .unlabeled(true)
            .execute();
    return new UpdateReader(new Configuration()).read(result.updateFile());
  }

  /** Per class, the sum over {@code rows} of {@code head}'s softmax, in double. */
  private static double[] predictionSum(Head head, Dataset rows) {
    double[] sum = new double[CLASSES];
    double[] z = new double[CLASSES];
    for (int i = 0; i < rows.size(); i++) {
      head.logits(rows.features(), i * DIMENSION, z);
      double max = Math.max(z[0], Math.max(z[1], z[2]));
      double total = 0;
      for (int c = 0; c < CLASSES; c++) {
        z[c] = Math.exp(z[c] - max);
        total += z[c];
      }
      for (int c = 0; c < CLASSES; c++) {
        sum[c] += z[c] / total;
      }
    }
    return sum;
  }

  /** FedAvg of the updates' biases: sum n_k b_k / sum n_k. */
  private static double[] meanBias(List<Update> updates) {
    double[] sum = new double[CLASSES];
    long total = 0;
    for (Update u : updates) {
      for (int c = 0; c < CLASSES; c++) {
        sum[c] += u.getNumExamples() * (double) u.getBias().get(c);
      }
      total += u.getNumExamples();
    }
    for (int c = 0; c < CLASSES; c++) {
      sum[c] /= total;
    }
    return sum;
  }

  private static double[] published(RoundResult result) {
    Model next = result.published().get(0);
    double[] bias = new double[CLASSES];
    for (int c = 0; c < CLASSES; c++) {
      bias[c] = next.getBias().get(c);
    }
    return bias;
  }

  private static double[] plus(double[] a, double[] b) {
    double[] out = a.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] += b[i];
    }
    return out;
  }

  @Test
  void sitesReportTheirPredictionsAndTheRoundMovesTheBiasesByTheHandComputedStep() {
    Store store = federation("real", 1.0);
    // skewed sites: a holds classes 0 and 1 only, b class 2 only
    Dataset all = classes.sample(6, 5, "rows.npy");
    Dataset a = subset(all, new int[] {0, 1}, "a.npy");
    Dataset b = subset(all, new int[] {2}, "b.npy");
    Update ua = unlabeled(store, "a", a);
    Update ub = unlabeled(store, "b", b);
    Head zeroShot = Models.head(store.readModel(0, 0));
    assertArrayEquals(
        predictionSum(zeroShot, a), toDoubles(ua.getPredictionSum()), 1e-5, "a's sum");
    assertArrayEquals(
        predictionSum(zeroShot, b), toDoubles(ub.getPredictionSum()), 1e-5, "b's sum");
    assertEquals(12L, ua.getPredictionRows());
    assertEquals(6L, ub.getPredictionRows());

    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    // 18 rows, 6 a class, which the zero-shot head of well separated centres predicts nearly
    // uniformly; the step is -(log C pbar_c - its mean over classes)
    double[] sum = plus(predictionSum(zeroShot, a), predictionSum(zeroShot, b));
    double[] step = new double[CLASSES];
    double mean = 0;
    for (int c = 0; c < CLASSES; c++) {
      step[c] = Math.log(CLASSES * sum[c] / 18);
      mean += step[c] / CLASSES;
    }
    double largest = 0;
    for (int c = 0; c < CLASSES; c++) {
      step[c] = -(step[c] - mean);
      largest = Math.max(largest, Math.abs(step[c]));
    }
    assertArrayEquals(plus(meanBias(List.of(ua, ub)), step), published(result), 1e-5);
    RoundHistory h = result.history().get(0);
    assertEquals(largest, h.getPriorCorrectionMax(), 1e-5);
    assertEquals(18L, h.getPriorCorrectionRows());
  }

  @Test
  void twoSitesSumsGiveTheHandComputedCorrectionAndBadSumsAreRejected() throws Exception {
    Store store = federation("known", 1.0);
    Update ua = unlabeled(store, "a", classes.sample(4, 1, "a.npy"));
    Update ub = unlabeled(store, "b", classes.sample(2, 2, "b.npy"));
    // the same trained parameters, but hand-written sums: a 4 rows [2, 1, 1], b 2 rows [0, .5, 1.5]
    // together 6 rows [2, 1.5, 2.5]: C pbar = [1, 0.75, 1.25], log = [0, -0.2876821, 0.2231436],
    // mean -0.0215128, step = [-0.0215128, 0.2661692, -0.2446564]
    store.writeUpdate(sums(ua, "a", new float[] {2f, 1f, 1f}, 4));
    store.writeUpdate(sums(ub, "b", new float[] {0f, 0.5f, 1.5f}, 2));
    store.writeUpdate(sums(ub, "c", new float[] {1f, 1f, 1f}, 2)); // adds up to 3, not 2
    // a site that claims more rows than it trained on, to outweigh the others
    store.writeUpdate(sums(ub, "d", new float[] {0f, 0f, 1000f}, 1000));
    RoundResult result = new RoundJob(store).execute();
    Map<String, String> reasons =
        result.audit().stream()
            .collect(
                Collectors.toMap(
                    UpdateAudit::getUpdateId,
                    r -> r.getStatus() + (r.getReason() == null ? "" : ": " + r.getReason())));
    assertEquals(
        "rejected: predictionSum adds up to 3.0000, not predictionRows = 2 (each row's"
            + " probabilities add up to 1)",
        reasons.get("c"));
    assertEquals(
        "rejected: predictionRows is 1000, more than the update's numExamples (6)",
        reasons.get("d"));
    assertEquals(2, result.history().get(0).getParticipants(), reasons.toString());
    double[] step = {-0.02151284037919038, 0.2661692320725905, -0.24465639169340014};
    assertArrayEquals(plus(meanBias(List.of(ua, ub)), step), published(result), 1e-6);
    RoundHistory h = result.history().get(0);
    assertEquals(0.2661692320725905, h.getPriorCorrectionMax(), 1e-6);
    assertEquals(6L, h.getPriorCorrectionRows());
    assertEquals(1.25, h.getMeanPredictionMax(), 1e-6);
  }

  @Test
  void withTheCorrectionOffSitesSendNoSumsAndTheBiasesAreTheMean() {
    Store store = federation("off", 0.0);
    Update ua = unlabeled(store, "a", classes.sample(4, 1, "a.npy"));
    Update ub = unlabeled(store, "b", classes.sample(2, 2, "b.npy"));
    assertNull(ua.getPredictionSum());
    assertNull(ua.getPredictionRows());
    RoundResult result = new RoundJob(store).execute();
    assertArrayEquals(meanBias(List.of(ua, ub)), published(result), 1e-6);
    assertNull(result.history().get(0).getPriorCorrectionMax());
    assertNull(result.history().get(0).getPriorCorrectionRows());
  }

  /** {@code u} again, with its id the old one's and these prediction sums. */
  private static Update sums(Update u, String id, float[] sum, long rows) {
    return Update.newBuilder(u)
        .setPredictionSum(FloatArrays.asList(sum))
        .setPredictionRows(rows)
        .setSite(id.equals("c") || id.equals("d") ? "site-" + id : u.getSite())
        .setUpdateId(id)
        .setCreatedTime(u.getCreatedTime().plusMillis(1))
        .build();
  }

  private static double[] toDoubles(List<Float> values) {
    double[] out = new double[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  /** The rows of {@code data} whose label is one of {@code keep}. */
  private static Dataset subset(Dataset data, int[] keep, String name) {
    int d = data.dimension();
    java.util.List<Integer> rows = new java.util.ArrayList<>();
    for (int i = 0; i < data.size(); i++) {
      for (int k : keep) {
        if (data.labels()[i] == k) {
          rows.add(i);
        }
      }
    }
    float[] x = new float[rows.size() * d];
    int[] y = new int[rows.size()];
    for (int r = 0; r < rows.size(); r++) {
      System.arraycopy(data.features(), rows.get(r) * d, x, r * d, d);
      y[r] = data.labels()[rows.get(r)];
    }
    return Dataset.of(name, x, y, d);
  }
}
