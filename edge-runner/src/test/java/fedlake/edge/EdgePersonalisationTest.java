package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.client.ClientRound;
import fedlake.core.client.ClientSettings;
import fedlake.core.client.FedDatRound;
import fedlake.core.client.Personalisation;
import fedlake.core.client.SiteState;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.round.UpdateReader;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.core.train.LocalTrainer;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FedDAT personalisation at the edge: only the shared head leaves the site, the local head is kept
 * in the site state, survives a crash of the runner and waits for a site that skips rounds.
 */
class EdgePersonalisationTest {
  private static final int DIMENSION = 8;
  private static final int CLASSES = 3;
  private static final int SIZE = CLASSES * DIMENSION + CLASSES;

  @TempDir Path dir;

  private final Dataset siteA = new GaussianClasses(CLASSES, DIMENSION, 0.5, 11).sample(10, 3, "a");
  private final Dataset siteB = new GaussianClasses(CLASSES, DIMENSION, 0.5, 11).sample(10, 4, "b");

  private Store federation() {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    new Federation(store)
        .dimension(DIMENSION)
        .classes(CLASSES)
        .strategy("fedavg")
        .adjust(spec -> spec.getClient().setPersonalisation(Personalisation.feddat().toSpec()))
        .execute();
    return store;
  }

  private EdgeTrain edge(Store store, String site, Dataset data) {
    return new EdgeTrain(store, site, data).stateDir(dir.resolve("state"));
  }

  private static Update read(EdgeTrain.Result result) {
    return new UpdateReader(new Configuration()).read(result.updateFile());
  }

  /**
   * What FedDatRound gives from {@code state} on the store's current model, as the runner would.
   */
  private static ClientRound.Result expected(Store store, Dataset data, SiteState state) {
    Model model = store.readModel(store.requireLatest().round(), 0);
    return FedDatRound.run(
        model,
        0,
        data,
        ClientSettings.of(Specs.require(store).getClient(), 0),
        state,
        line -> {},
        LocalTrainer.Progress.NONE);
  }

  @Test
  void onlyTheSharedHeadIsUploadedAndTheLocalHeadIsKept() {
    Store store = federation();
    EdgeTrain edge = edge(store, "a", siteA);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Update u = read(edge.progress(new PrintStream(log, true, StandardCharsets.UTF_8)).execute());
    assertEquals(CLASSES * DIMENSION, u.getWeights().size());
    assertEquals(CLASSES, u.getBias().size());
    assertEquals(0, u.getCacheKeys().size());
    assertEquals(0, u.getControlDelta().size(), "fedavg's sgd sites upload no control delta");

    SiteState state = edge.siteState();
    assertEquals(1, state.revision());
    float[] local = state.vector(0, FedDatRound.LOCAL_HEAD);
    assertNotNull(local, "the local head is kept");
    assertEquals(SIZE, local.length);
    float[] shared = new float[SIZE];
    float[] w = FloatArrays.toArray(u.getWeights());
    float[] b = FloatArrays.toArray(u.getBias());
    System.arraycopy(w, 0, shared, 0, w.length);
    System.arraycopy(b, 0, shared, w.length, b.length);
    assertFalse(Arrays.equals(shared, local), "the upload is the shared head, not the local one");
    assertFalse(Arrays.equals(new float[SIZE], local), "the local head trained");

    // the same round from an empty state, directly: the runner uploaded exactly its shared part
    ClientRound.Result direct = expected(store, siteA, SiteState.empty());
    assertArrayEquals(direct.parameters(), shared, 0f);
    assertArrayEquals(direct.outcome().state().get(FedDatRound.LOCAL_HEAD), local, 0f);
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(
        text.contains(
            "personalisation feddat (temperature 3.0, shared distillation 1.0, local distillation"
                + " 1.0); only the shared head is uploaded"),
        text);
    assertTrue(text.contains("no local head kept yet; starting it from the round's model"), text);
  }

  @Test
  void theLocalHeadSurvivesACrashOfTheRunner() throws Exception {
    Store store = federation();
    edge(store, "a", siteA).execute();
    SiteState before = edge(store, "a", siteA).siteState();
    float[] kept = before.vector(0, FedDatRound.LOCAL_HEAD);

    // the runner dies after training, before the upload: nothing uploaded, nothing kept
    RuntimeException crash =
        assertThrows(
            RuntimeException.class,
            () ->
                edge(store, "a", siteA)
                    .beforeUpload(
                        () -> {
                          throw new RuntimeException("killed before upload");
                        })
                    .execute());
    assertEquals("killed before upload", crash.getMessage());
    assertEquals(1, store.listUpdates(0).size(), "only the first run's update");
    // and a commit that died half-way: a new vector file and a temp file, no new manifest
    Path folder = before.folder();
    Npy.writeFloat32(
        folder.resolve("cluster-0." + FedDatRound.LOCAL_HEAD + ".r2.npy"),
        new float[SIZE],
        1,
        SIZE);
    Files.writeString(folder.resolve(".manifest.properties.123.tmp"), "format=1\nrevision=2\n");

    SiteState after = edge(store, "a", siteA).siteState();
    assertEquals(1, after.revision());
    assertArrayEquals(kept, after.vector(0, FedDatRound.LOCAL_HEAD), 0f);

    // the next run trains from the kept local head and commits over the leftovers
    ClientRound.Result expected = expected(store, siteA, after);
    EdgeTrain again = edge(store, "a", siteA);
    again.execute();
    SiteState committed = again.siteState();
    assertEquals(2, committed.revision());
    assertArrayEquals(
        expected.outcome().state().get(FedDatRound.LOCAL_HEAD),
        committed.vector(0, FedDatRound.LOCAL_HEAD),
        0f);
    assertFalse(
        Files.exists(folder.resolve(".manifest.properties.123.tmp")),
        "the crashed commit's leftovers are removed");
  }

  @Test
  void aSiteThatSkipsRoundsResumesFromItsOwnLocalHead() {
    Store store = federation();
    edge(store, "a", siteA).execute();
    float[] afterRoundZero = edge(store, "a", siteA).siteState().vector(0, FedDatRound.LOCAL_HEAD);
    edge(store, "b", siteB).execute();
    for (int round = 0; round < 3; round++) {
      if (round > 0) {
        edge(store, "b", siteB).execute();
      }
      RoundResult result = new RoundJob(store).execute();
      assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    }
    assertEquals(3, store.requireLatest().round());
    SiteState state = edge(store, "a", siteA).siteState();
    assertArrayEquals(afterRoundZero, state.vector(0, FedDatRound.LOCAL_HEAD), 0f);

    ClientRound.Result expected = expected(store, siteA, state);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    EdgeTrain back =
        edge(store, "a", siteA).progress(new PrintStream(log, true, StandardCharsets.UTF_8));
    Update u = read(back.execute());
    assertEquals(3, u.getRound());
    assertArrayEquals(
        expected.outcome().state().get(FedDatRound.LOCAL_HEAD),
        back.siteState().vector(0, FedDatRound.LOCAL_HEAD),
        0f);
    assertFalse(
        log.toString(StandardCharsets.UTF_8).contains("no local head kept yet"),
        "it did not start afresh");
    // and from the round's model alone it would have ended elsewhere
    ClientRound.Result fresh = expected(store, siteA, SiteState.empty());
    assertFalse(
        Arrays.equals(
            fresh.outcome().state().get(FedDatRound.LOCAL_HEAD),
            back.siteState().vector(0, FedDatRound.LOCAL_HEAD)));
  }
}
