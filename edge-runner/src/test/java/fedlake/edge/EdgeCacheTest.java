package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import fedlake.core.train.TrainSettings;
import fedlake.schema.Model;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cache-model federation through the real edge runner and round job on a local store. */
class EdgeCacheTest {
  private static final int DIMENSION = 8;
  private static final int CLASSES = 3;

  @TempDir Path dir;

  private final GaussianClasses generator = new GaussianClasses(CLASSES, DIMENSION, 0.8, 21);

  /**
   * A SCAFFOLD federation whose round-0 model is a cache of 2 noisy keys per class and a zero head.
   */
  private Store cacheFederation() {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    Dataset keys = new GaussianClasses(CLASSES, DIMENSION, 3.0, 21).sample(2, 5, "keys");
    new Federation(store)
        .strategy("scaffold")
        .initialCache(
            Models.cacheOf(keys, Head.zeros(DIMENSION, CLASSES, 10f), 4f, 5.5f), "synthetic")
        .execute();
    return store;
  }

  private Update readUpdate(String file) {
    return new UpdateReader(new Configuration()).read(file);
  }

  @Test
  void sitesFineTuneTheKeysAndTheRoundAveragesThem() throws IOException {
    Store store = cacheFederation();
    Model base = store.readModel(0, 0);
    assertEquals(Models.CACHE, base.getKind());
    assertEquals(6, base.getCacheLabels().size());
    Dataset siteA = generator.sample(12, 31, "site-a");
    Dataset siteB = generator.sample(4, 32, "site-b");
    Path states = dir.resolve("states");
    EdgeTrain.Result a =
        new EdgeTrain(store, "site-a", siteA)
            .settings(TrainSettings.defaults(1))
            .stateDir(states)
            .execute();
    EdgeTrain.Result b =
        new EdgeTrain(store, "site-b", siteB)
            .settings(TrainSettings.defaults(2))
            .stateDir(states)
            .execute();
    Update ua = readUpdate(a.updateFile());
    Update ub = readUpdate(b.updateFile());
    for (Update u : List.of(ua, ub)) {
      assertEquals(Models.CACHE, u.getKind());
      assertEquals(base.getCacheKeys().size(), u.getCacheKeys().size());
      assertEquals(base.getWeights(), u.getWeights(), "Tip-Adapter-F trains the keys only");
      assertEquals(base.getBias(), u.getBias());
      assertTrue(!u.getCacheKeys().equals(base.getCacheKeys()), "keys did not move");
      assertEquals(
          base.getControlVariate().size(),
          u.getControlDelta().size(),
          "SCAFFOLD delta over weights, bias and keys");
    }
    assertEquals(36, ua.getNumExamples());
    assertEquals(
        base.getControlVariate().size(),
        new EdgeTrain(store, "site-a", siteA)
            .stateDir(states)
            .siteState()
            .vector(0, fedlake.core.client.ScaffoldClient.CONTROL)
            .length,
        "site control variate saved");

    RoundResult round = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, round.status(), round.message());
    Model next = round.published().get(0);
    assertEquals(Models.CACHE, next.getKind());
    assertEquals(base.getCacheLabels(), next.getCacheLabels());
    assertEquals(base.getCacheAlpha(), next.getCacheAlpha());
    assertEquals(base.getCacheBeta(), next.getCacheBeta());
    assertEquals("scaffold", next.getStrategy());
    float[] ka = FloatArrays.toArray(ua.getCacheKeys());
    float[] kb = FloatArrays.toArray(ub.getCacheKeys());
    float[] published = FloatArrays.toArray(next.getCacheKeys());
    for (int i = 0; i < published.length; i++) {
      assertEquals(
          (float) ((36.0 * ka[i] + 12.0 * kb[i]) / 48),
          published[i],
          Math.ulp(published[i]),
          "key value " + i);
    }
    Dataset test = generator.sample(30, 33, "test");
    double before = Models.classifier(base).evaluate(test).accuracy();
    double after = Models.classifier(next).evaluate(test).accuracy();
    assertTrue(
        after > before, "one round should improve the noisy cache: " + before + " -> " + after);

    // round 1: sites train from the published cache model
    EdgeTrain.Result again =
        new EdgeTrain(store, "site-a", siteA)
            .settings(TrainSettings.defaults(3))
            .stateDir(states)
            .execute();
    assertEquals(1, again.round());
    assertEquals(next.getVersion(), again.baseModelVersion());
  }

  @Test
  void aHeadUpdateInACacheFederationIsRejectedWithTheReason() throws IOException {
    Store store = cacheFederation();
    EdgeTrain.Result good =
        new EdgeTrain(store, "site-a", generator.sample(5, 41, "site-a"))
            .settings(TrainSettings.defaults(1))
            .stateDir(dir.resolve("states"))
            .execute();
    Update head =
        Update.newBuilder(readUpdate(good.updateFile()))
            .setUpdateId("head-update")
            .setSite("site-h")
            .setKind(Models.HEAD)
            .setCacheKeys(List.of())
            .setControlDelta(List.of())
            .build();
    store.writeUpdate(head);
    RoundResult round = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, round.status(), round.message());
    assertEquals(1, round.history().get(0).getParticipants());
    List<UpdateAudit> rejected =
        round.audit().stream().filter(x -> !"accepted".equals(x.getStatus())).toList();
    assertEquals(1, rejected.size());
    assertEquals("site-h", rejected.get(0).getSite());
    assertEquals(
        "model kind mismatch: update is a 'head' model, the federation's model is 'cache'",
        rejected.get(0).getReason());
  }
}
