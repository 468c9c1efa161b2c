package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.client.ClientSettings;
import fedlake.core.client.ScaffoldClient;
import fedlake.core.client.SiteState;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.ClientSpec;
import fedlake.schema.Update;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edge runner trains with the client algorithm and settings of the federation spec. */
class EdgeClientTest {
  private static final int DIMENSION = 8;
  private static final int CLASSES = 3;

  @TempDir Path dir;

  private final Dataset site =
      new GaussianClasses(CLASSES, DIMENSION, 0.5, 11).sample(10, 3, "site");

  private Store federation(String aggregation) {
    Store store = Store.open(dir.resolve("store-" + aggregation).toUri().toString());
    new Federation(store).dimension(DIMENSION).classes(CLASSES).strategy(aggregation).execute();
    return store;
  }

  private static ClientSpec spec(ClientAlgorithmName algorithm, int epochs, double mu) {
    return ClientSpec.newBuilder()
        .setAlgorithm(algorithm)
        .setEpochs(epochs)
        .setBatchSize(8)
        .setLearningRate(0.2)
        .setProximalMu(mu)
        .build();
  }

  private static Update read(EdgeTrain.Result result) {
    return new UpdateReader(new Configuration()).read(result.updateFile());
  }

  @Test
  void theSpecsAlgorithmIsBindingWhateverTheModelCarries() {
    Store scaffoldModel = federation("scaffold");
    EdgeTrain.Result sgd =
        new EdgeTrain(scaffoldModel, "a", site)
            .client(spec(ClientAlgorithmName.SGD, 2, 0))
            .stateDir(dir.resolve("state"))
            .execute();
    Update u = read(sgd);
    assertEquals(
        0,
        u.getControlDelta().size(),
        "SGD uploads no control delta even when the model carries a control variate");
    assertEquals(2, u.getLocalEpochs());
    assertEquals(8, u.getLocalSteps(), "30 rows in batches of 8: 4 steps an epoch");
    assertEquals(
        0,
        new EdgeTrain(scaffoldModel, "a", site)
            .stateDir(dir.resolve("state"))
            .siteState()
            .revision(),
        "nothing kept");

    Store plainModel = federation("fedavg");
    EdgeTrain edge =
        new EdgeTrain(plainModel, "a", site)
            .client(spec(ClientAlgorithmName.SCAFFOLD, 1, 0))
            .stateDir(dir.resolve("state"));
    Update s = read(edge.execute());
    int parameters = CLASSES * DIMENSION + CLASSES;
    assertEquals(
        parameters, s.getControlDelta().size(), "SCAFFOLD from a zero server control variate");
    float[] kept = edge.siteState().vector(0, ScaffoldClient.CONTROL);
    assertArrayEquals(
        FloatArrays.toArray(s.getControlDelta()),
        kept,
        0f,
        "from c_i = 0 the delta is the kept c_i+");
  }

  @Test
  void theSitesOverridesWinOverTheSpecsSettings() {
    Store store = federation("fedavg");
    EdgeTrain.Result result =
        new EdgeTrain(store, "a", site)
            .client(spec(ClientAlgorithmName.PROX, 4, 0.1))
            .overrides(new ClientSettings.Overrides(1, 10, null, null, null, null, null))
            .stateDir(dir.resolve("state"))
            .execute();
    Update u = read(result);
    assertEquals(1, u.getLocalEpochs());
    assertEquals(3, u.getLocalSteps(), "1 epoch of 30 rows in batches of 10");
    assertEquals(0, u.getControlDelta().size());
  }

  @Test
  void withoutASpecTheRunnerTrainsAsBefore() {
    Store store = federation("scaffold");
    TrainSettings settings = TrainSettings.defaults(5);
    Update u =
        read(
            new EdgeTrain(store, "a", site)
                .settings(settings)
                .stateDir(dir.resolve("state"))
                .execute());
    assertEquals(
        CLASSES * DIMENSION + CLASSES,
        u.getControlDelta().size(),
        "SCAFFOLD: the model carries a control variate");
    assertEquals(TrainSettings.EPOCHS_DEFAULT, u.getLocalEpochs());
    // the same as the spec naming SCAFFOLD with the default settings
    ClientSpec same =
        ClientSpec.newBuilder()
            .setAlgorithm(ClientAlgorithmName.SCAFFOLD)
            .setEpochs(settings.epochs())
            .setBatchSize(settings.batchSize())
            .setLearningRate(settings.learningRate())
            .build();
    Update v =
        read(
            new EdgeTrain(store, "b", site)
                .settings(settings)
                .client(same)
                .stateDir(dir.resolve("state"))
                .execute());
    assertArrayEquals(FloatArrays.toArray(u.getWeights()), FloatArrays.toArray(v.getWeights()), 0f);
    assertArrayEquals(
        FloatArrays.toArray(u.getControlDelta()), FloatArrays.toArray(v.getControlDelta()), 0f);
  }

  @Test
  void theControlVariateOfTheOldStateLayoutIsUsedAndMoved() throws IOException {
    Store store = federation("scaffold");
    EdgeTrain edge = new EdgeTrain(store, "a", site).stateDir(dir.resolve("state"));
    Path oldFile = edge.siteState().folder().getParent().resolve("a-cluster-0.npy");
    Files.createDirectories(oldFile.getParent());
    float[] old = new float[CLASSES * DIMENSION + CLASSES];
    java.util.Arrays.fill(old, 0.5f);
    Npy.writeFloat32(oldFile, old, 1, old.length);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Update u = read(edge.progress(new PrintStream(log, true, StandardCharsets.UTF_8)).execute());
    String printed = log.toString(StandardCharsets.UTF_8);
    assertTrue(
        printed.contains(
            "site a: read the control variate of cluster 0 from the old state file " + oldFile),
        printed);
    assertTrue(
        printed.contains("site a: client scaffold, 5 epochs, batch 16, learning rate 0.3"),
        printed);
    SiteState state = edge.siteState();
    assertEquals(
        2, state.revision(), "the old file counts as revision 1, the run commits revision 2");
    float[] next = state.vector(0, ScaffoldClient.CONTROL);
    float[] delta = FloatArrays.toArray(u.getControlDelta());
    for (int i = 0; i < old.length; i++) {
      assertEquals(
          next[i] - old[i], delta[i], 1e-6f, "delta relative to the old state, parameter " + i);
    }
  }

  @Test
  void aSiteThatMissesItsRoundDoesNotAdvanceItsState() {
    Store store = federation("scaffold");
    EdgeTrain first = new EdgeTrain(store, "a", site).stateDir(dir.resolve("state"));
    EdgeTrain.Result kept = first.execute();
    assertEquals(false, kept.missedRound());
    SiteState before = first.siteState();
    assertEquals(1, before.revision());

    // while site a trains again, the round job aggregates round 0 from its first update
    EdgeTrain late =
        new EdgeTrain(store, "a", site)
            .stateDir(dir.resolve("state"))
            .beforeUpload(
                () ->
                    assertEquals(
                        fedlake.core.round.RoundResult.Status.PUBLISHED,
                        new fedlake.core.round.RoundJob(store).execute().status()));
    EdgeTrain.Result missed = late.execute();

    assertEquals(true, missed.missedRound());
    assertEquals(0, missed.round());
    assertEquals(1, store.requireLatest().round());
    SiteState after = late.siteState();
    assertEquals(1, after.revision(), "the state of the missed round was not committed");
    assertArrayEquals(
        before.vector(0, ScaffoldClient.CONTROL), after.vector(0, ScaffoldClient.CONTROL), 0f);
  }
}
