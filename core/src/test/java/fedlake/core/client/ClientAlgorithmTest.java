package fedlake.core.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client algorithms on problems with known answers. */
class ClientAlgorithmTest {
  @TempDir Path dir;

  /**
   * x = (1, 0) with label 0: from a zero 2 x 2 head at logit scale 10 the gradient is W (-5, 0; 5,
   * 0), b (-0.5, 0.5).
   */
  private static final Dataset ONE = Dataset.of("one", new float[] {1, 0}, new int[] {0}, 2);

  private static final float[] FIRST_GRADIENT = {-5, 0, 5, 0, -0.5f, 0.5f};

  private static Model headModel(Head head, float[] serverControl) {
    Model model = Models.initialHead(head, 0, "scaffold", serverControl != null, 0);
    if (serverControl != null) {
      model = Model.newBuilder(model).setControlVariate(FloatArrays.asList(serverControl)).build();
    }
    return model;
  }

  private static ClientSettings settings(
      ClientAlgorithmName name, int epochs, double learningRate, double mu) {
    return new ClientSettings(name, new TrainSettings(epochs, 1, learningRate, 0, 0, 1, false), mu);
  }

  @Test
  void scaffoldOneStepKeepsTheStepsGradientAsTheSiteControlVariate() {
    // one step y = x - lr (g + c - c_i); option II: c_i+ = c_i - c + (x - y) / lr = g, whatever c
    // and c_i were
    float[] server = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f};
    float[] site = {1f, -1f, 0.5f, 0f, 0.25f, 2f};
    SiteState state = SiteState.open(dir).edit().put(0, ScaffoldClient.CONTROL, site).commit();
    Model model = headModel(Head.zeros(2, 2, 10f), server);
    ClientRound.Result result =
        ClientRound.run(
            model,
            0,
            ONE,
            settings(ClientAlgorithmName.SCAFFOLD, 1, 0.5, 0),
            state,
            line -> {},
            LocalTrainer.Progress.NONE);
    float[] expected = new float[6];
    for (int i = 0; i < 6; i++) {
      expected[i] = -0.5f * (FIRST_GRADIENT[i] + server[i] - site[i]);
    }
    assertArrayEquals(expected, result.parameters(), 1e-6f, "y = x - lr (g + c - c_i)");
    float[] next = result.outcome().state().get(ScaffoldClient.CONTROL);
    assertArrayEquals(FIRST_GRADIENT, next, 1e-5f, "c_i+ is the step's gradient");
    float[] delta = new float[6];
    for (int i = 0; i < 6; i++) {
      delta[i] = FIRST_GRADIENT[i] - site[i];
    }
    assertArrayEquals(
        delta, result.outcome().controlDelta(), 1e-5f, "the update carries c_i+ - c_i");
    assertEquals(1, result.steps());
  }

  @Test
  void scaffoldInANewClusterStartsFromTheControlVariateWrittenLast() {
    float[] older = {1, 1, 1, 1, 1, 1};
    float[] newer = {2, 0, -2, 0, 3, 1};
    SiteState state =
        SiteState.open(dir)
            .edit()
            .put(4, ScaffoldClient.CONTROL, older)
            .commit()
            .edit()
            .put(0, ScaffoldClient.CONTROL, newer)
            .commit();
    Model model = headModel(Head.zeros(2, 2, 10f), new float[6]);
    List<String> log = new ArrayList<>();
    ClientRound.Result result =
        ClientRound.run(
            model,
            7,
            ONE,
            settings(ClientAlgorithmName.SCAFFOLD, 1, 0.5, 0),
            state,
            log::add,
            LocalTrainer.Progress.NONE);
    assertEquals(
        List.of("first round in cluster 7; starting from its control variate of cluster 0"), log);
    float[] delta = new float[6];
    for (int i = 0; i < 6; i++) {
      delta[i] = FIRST_GRADIENT[i] - newer[i];
    }
    assertArrayEquals(delta, result.outcome().controlDelta(), 1e-5f);
  }

  @Test
  void scaffoldIgnoresAControlVariateOfAnotherShapeAndStartsFromZero() {
    SiteState state =
        SiteState.open(dir).edit().put(0, ScaffoldClient.CONTROL, new float[] {1, 2, 3}).commit();
    List<String> log = new ArrayList<>();
    ClientRound.Result result =
        ClientRound.run(
            headModel(Head.zeros(2, 2, 10f), null),
            0,
            ONE,
            settings(ClientAlgorithmName.SCAFFOLD, 1, 0.5, 0),
            state,
            log::add,
            LocalTrainer.Progress.NONE);
    assertEquals(
        List.of(
            "the model carries no control variate; SCAFFOLD starts from a zero server control variate",
            "ignoring the kept control variate (3 values, model has 6 parameters)"),
        log);
    assertArrayEquals(
        FIRST_GRADIENT,
        result.outcome().controlDelta(),
        1e-5f,
        "c_i = 0, so the delta is c_i+ = g");
  }

  @Test
  void proxTwoStepsPullTheSecondStepBackToTheRoundsModel() {
    // step 1 is plain SGD (w = w_round): W1 = (2.5, 0; -2.5, 0), b1 = (0.25, -0.25); then the
    // logits are (25.25, -25.25), the
    // loss gradient ~1e-21, and step 2 is w2 = w1 - lr mu (w1 - 0) = w1 (1 - 0.5 * 1)
    ClientRound.Result prox =
        ClientRound.run(
            headModel(Head.zeros(2, 2, 10f), null),
            0,
            ONE,
            settings(ClientAlgorithmName.PROX, 2, 0.5, 1.0),
            SiteState.empty(),
            line -> {},
            LocalTrainer.Progress.NONE);
    assertArrayEquals(new float[] {1.25f, 0, -1.25f, 0, 0.125f, -0.125f}, prox.parameters(), 1e-6f);
    assertEquals(0, prox.outcome().controlDelta().length, "PROX uploads no control delta");
    assertTrue(prox.outcome().state().isEmpty());
    ClientRound.Result sgd =
        ClientRound.run(
            headModel(Head.zeros(2, 2, 10f), null),
            0,
            ONE,
            settings(ClientAlgorithmName.SGD, 2, 0.5, 1.0),
            SiteState.empty(),
            line -> {},
            LocalTrainer.Progress.NONE);
    assertArrayEquals(
        new float[] {2.5f, 0, -2.5f, 0, 0.25f, -0.25f},
        sgd.parameters(),
        1e-6f,
        "without the term step 2 stays");
  }

  @Test
  void proxWithLargeMuStaysNearTheRoundsModel() {
    Dataset data = new GaussianClasses(4, 16, 1.0, 2).sample(20, 3, "site");
    Head round = new Head(16, 4, 10f, noiseVector(64), new float[4]);
    Model model = headModel(round, null);
    float[] base = Models.parameters(model);
    double[] distances = new double[3];
    double[] mus = {0, 1, 8}; // lr mu stays below 1: larger would overshoot the anchor
    for (int m = 0; m < mus.length; m++) {
      ClientSettings settings =
          new ClientSettings(
              ClientAlgorithmName.PROX, new TrainSettings(3, 8, 0.1, 0, 0, 4, false), mus[m]);
      float[] trained =
          ClientRound.run(
                  model,
                  0,
                  data,
                  settings,
                  SiteState.empty(),
                  line -> {},
                  LocalTrainer.Progress.NONE)
              .parameters();
      double squares = 0;
      for (int i = 0; i < base.length; i++) {
        squares += (trained[i] - base[i]) * (trained[i] - base[i]);
      }
      distances[m] = Math.sqrt(squares);
    }
    String figures = "|w - w_round| for mu 0, 1, 8: " + java.util.Arrays.toString(distances);
    assertTrue(distances[1] < 0.7 * distances[0], figures);
    assertTrue(distances[2] < 0.3 * distances[0], figures);
  }

  private static float[] noiseVector(int n) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(9);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (random.nextGaussian() * 0.1);
    }
    return v;
  }

  @Test
  void sgdIsTheOldLocalTrainerBitForBit() {
    Dataset data = new GaussianClasses(3, 8, 1.0, 5).sample(10, 6, "site");
    Head start = Head.zeros(8, 3, 10f);
    TrainSettings train = new TrainSettings(2, 4, 0.3, 0.5, 0.01, 3, false);
    ClientRound.Result result =
        ClientRound.run(
            headModel(start, null),
            0,
            data,
            new ClientSettings(ClientAlgorithmName.SGD, train, 0),
            SiteState.empty(),
            line -> {},
            LocalTrainer.Progress.NONE);
    LocalTrainer.Result trainer =
        LocalTrainer.train(start, data, train, LocalTrainer.Progress.NONE);
    assertArrayEquals(trainer.head().weights(), result.weights(), 0f);
    assertArrayEquals(trainer.head().bias(), result.bias(), 0f);
    assertEquals(0, result.outcome().controlDelta().length);
    assertEquals(trainer.accuracy(), result.accuracy(), 0.0);
  }

  @Test
  void algorithmsAreMadeFromTheirNames() {
    for (ClientAlgorithmName name : ClientAlgorithmName.values()) {
      assertEquals(name, ClientAlgorithm.of(name, 0.1).name());
    }
    assertEquals(0.1, ((ProxClient) ClientAlgorithm.of(ClientAlgorithmName.PROX, 0.1)).mu(), 0.0);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ClientAlgorithm.of(ClientAlgorithmName.PROX, -1));
    assertEquals("FedProx mu must be finite and >= 0, got -1.0", e.getMessage());
  }

  @Test
  void overridesWinOverTheSpecButNotTheAlgorithm() {
    fedlake.schema.ClientSpec spec =
        fedlake.schema.ClientSpec.newBuilder()
            .setAlgorithm(ClientAlgorithmName.PROX)
            .setEpochs(4)
            .setBatchSize(32)
            .setLearningRate(0.1)
            .setMomentum(0.9)
            .setWeightDecay(0.001)
            .setProximalMu(0.01)
            .setBalancedLoss(true)
            .build();
    ClientSettings fromSpec = ClientSettings.of(spec, 7);
    assertEquals(
        new ClientSettings(
            ClientAlgorithmName.PROX, new TrainSettings(4, 32, 0.1, 0.9, 0.001, 7, true), 0.01),
        fromSpec);
    ClientSettings weakSite =
        fromSpec.with(new ClientSettings.Overrides(1, null, 0.05, null, null, null, 9L));
    assertEquals(
        new ClientSettings(
            ClientAlgorithmName.PROX, new TrainSettings(1, 32, 0.05, 0.9, 0.001, 9, true), 0.01),
        weakSite);
  }
}
