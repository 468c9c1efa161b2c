package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.client.ClientRound;
import fedlake.core.client.ClientSettings;
import fedlake.core.client.SiteState;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.round.UpdateReader;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.core.train.LocalTrainer;
import fedlake.schema.ClientSpec;
import fedlake.schema.ForwardOnlySpec;
import fedlake.schema.SiteBudgetSpec;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import java.nio.file.Path;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forward-only sites upload a seed and scalars; the round job replays them into the parameters the
 * site trained. Budgets reach the site by its class.
 */
class EdgeForwardOnlyTest {
  private static final int DIMENSION = 8;
  private static final int CLASSES = 3;

  @TempDir Path dir;

  private final Dataset data = new GaussianClasses(CLASSES, DIMENSION, 0.5, 11).sample(10, 3, "a");

  private Store federation(String optimizer, Map<String, SiteBudgetSpec> budgets) {
    return federation(optimizer, budgets, null);
  }

  /** With {@code candidates} (null: none) seeded directions a step to choose 3 of. */
  private Store federation(
      String optimizer, Map<String, SiteBudgetSpec> budgets, Integer candidates) {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    new Federation(store)
        .dimension(DIMENSION)
        .classes(CLASSES)
        .strategy("fedavg")
        .adjust(
            spec -> {
              ClientSpec client = spec.getClient();
              client.setOptimizer(optimizer);
              client.setForwardOnly(new ForwardOnlySpec(1e-3, 0.05, 3, 6, 8, candidates));
              client.setBudgets(budgets);
            })
        .execute();
    return store;
  }

  private EdgeTrain site(Store store, String site) {
    return new EdgeTrain(store, site, data).stateDir(dir.resolve("state"));
  }

  @Test
  void theRoundJobReplaysSeedAndScalarsIntoTheSitesTrainedParameters() {
    Store store = federation("forward-only", Map.of());
    EdgeTrain.Result result = site(store, "a").execute();
    Update update = new UpdateReader(new Configuration()).read(result.updateFile());
    assertTrue(result.forwardOnly());
    assertEquals(0, update.getWeights().size());
    assertEquals(0, update.getBias().size());
    assertEquals(18, update.getSeededScalars().size()); // 6 steps x 3 directions
    assertEquals(3, update.getSeededDirections());
    assertEquals(6, update.getLocalSteps());
    assertEquals(16 + 4 * 18, result.parameterBytes());

    ClientRound.Result trained = trainedAgain(store);
    assertEquals(update.getSeededSeed(), trained.seeded().seed());
    assertTheRoundPublishes(store, trained.parameters());
  }

  /** What site a trained, computed again from the same spec, seed and data. */
  private ClientRound.Result trainedAgain(Store store) {
    ClientSettings settings = ClientSettings.of(Specs.require(store).getClient(), 0, "a", null);
    return ClientRound.run(
        store.readModel(0, 0),
        0,
        data,
        settings,
        SiteState.empty(),
        l -> {},
        LocalTrainer.Progress.NONE);
  }

  /**
   * The round publishes {@code expected} bit for bit: FedAvg of one update is that update, so the
   * replay gave the site's trained parameters.
   */
  private static void assertTheRoundPublishes(Store store, float[] expected) {
    RoundResult round = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, round.status());
    float[] published = Models.parameters(round.published().get(0));
    for (int i = 0; i < expected.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(expected[i]),
          Float.floatToRawIntBits(published[i]),
          "parameter " + i);
    }
  }

  @Test
  void aSeededUpdateWithTheWrongNumberOfScalarsIsRejectedWithTheReason() throws Exception {
    Store store = federation("forward-only", Map.of());
    EdgeTrain.Result result = site(store, "a").execute();
    UpdateReader reader = new UpdateReader(new Configuration());
    Update bad = Update.newBuilder(reader.read(result.updateFile())).setLocalSteps(5).build();
    java.nio.file.Files.delete(Path.of(java.net.URI.create(result.updateFile())));
    store.writeUpdate(bad);
    RoundResult round = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, round.status());
    UpdateAudit audit = round.audit().get(0);
    assertEquals(
        "a forward-only update needs localSteps x seededDirections = 5 x 3 scalars, it has 18",
        audit.getReason());
  }

  @Test
  void aBudgetReachesTheSiteByItsClassAndItsOwnIdWins() {
    Store store =
        federation(
            "backprop",
            Map.of(
                "weak", new SiteBudgetSpec(1, null),
                "tiny", new SiteBudgetSpec(2, "forward-only"),
                "b", new SiteBudgetSpec(3, null)));
    UpdateReader reader = new UpdateReader(new Configuration());
    Update weak = reader.read(site(store, "a").siteClass("weak").execute().updateFile());
    assertEquals(1, weak.getLocalSteps());
    assertNull(weak.getSeededSeed());
    assertEquals(CLASSES * DIMENSION, weak.getWeights().size());
    Update tiny = reader.read(site(store, "c").siteClass("tiny").execute().updateFile());
    assertEquals(2, tiny.getLocalSteps());
    assertEquals(6, tiny.getSeededScalars().size());
    Update own = reader.read(site(store, "b").siteClass("weak").execute().updateFile());
    assertEquals(3, own.getLocalSteps());
    assertEquals(RoundResult.Status.PUBLISHED, new RoundJob(store).execute().status());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> site(store, "d").siteClass("-x"));
    assertEquals(
        "--site-class '-x' must be 1-128 letters, digits, '.', '_' or '-', starting with a letter"
            + " or digit",
        e.getMessage());
  }

  @Test
  void forwardOnlyRefusesLocalDpNoise() {
    Store store = federation("forward-only", Map.of());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> site(store, "a").localDp(1.0, 0.5).execute());
    assertEquals(
        "Site a will not train: forward-only updates travel as seeds and scalars, which local DP"
            + " noise cannot be added to (drop --local-dp-noise or train by backprop)",
        e.getMessage());
  }

  @Test
  void chosenDirectionsTravelAsIndicesAndTheReplayGivesTheSitesParameters() {
    Store store = federation("forward-only", Map.of(), 20);
    EdgeTrain.Result result = site(store, "a").execute();
    Update update = new UpdateReader(new Configuration()).read(result.updateFile());
    assertEquals(18, update.getSeededScalars().size()); // 6 steps x 3 directions
    assertEquals(18, update.getSeededIndices().remaining()); // one byte each
    assertEquals(16 + 4 * 18 + 18, result.parameterBytes());
    ClientRound.Result trained = trainedAgain(store);
    byte[] indices = new byte[18];
    update.getSeededIndices().duplicate().get(indices);
    assertArrayEquals(trained.seeded().indices(), indices);
    assertTheRoundPublishes(store, trained.parameters());
  }

  /** The round's audit reason for the site's update with its indices replaced by {@code bad}. */
  private String reasonWithIndices(byte[] bad) throws Exception {
    Store store = federation("forward-only", Map.of(), 20);
    EdgeTrain.Result result = site(store, "a").execute();
    UpdateReader reader = new UpdateReader(new Configuration());
    Update hostile =
        Update.newBuilder(reader.read(result.updateFile()))
            .setSeededIndices(java.nio.ByteBuffer.wrap(bad))
            .build();
    java.nio.file.Files.delete(Path.of(java.net.URI.create(result.updateFile())));
    store.writeUpdate(hostile);
    RoundResult round = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, round.status());
    return round.audit().get(0).getReason();
  }

  @Test
  void aRepeatedIndexIsRejectedWithTheReason() throws Exception {
    byte[] bad = new byte[18];
    for (int i = 0; i < 18; i++) {
      bad[i] = (byte) (i % 3);
    }
    bad[13] = (byte) 200; // step 4: 200, 200
    bad[14] = (byte) 200;
    assertEquals("seededIndices chooses direction 200 twice in step 4", reasonWithIndices(bad));
  }

  @Test
  void indicesThatAreNotOnePerScalarAreRejectedWithTheReason() throws Exception {
    assertEquals(
        "seededIndices has 17 indices, it needs one per scalar (18)",
        reasonWithIndices(new byte[17]));
  }
}
