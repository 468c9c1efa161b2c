package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.client.ClientRound;
import fedlake.core.client.ClientSettings;
import fedlake.core.client.SiteState;
import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.privacy.CentralDp;
import fedlake.core.privacy.Centring;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.core.train.LocalTrainer;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.ClientSpec;
import fedlake.schema.Model;
import fedlake.schema.PrivacySpec;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Central DP with privacy.centre at the edge: the site trains the centred head on centred inputs,
 * uploads the usual head, and clips its change in centred coordinates.
 */
class CentredDpTest {
  private static final int DIMENSION = 6;
  private static final int CLASSES = 3;
  private static final List<Float> CENTRE = List.of(0.3f, -0.2f, 0.1f, 0.4f, 0f, -0.1f);

  @TempDir Path dir;

  private final Dataset site = new GaussianClasses(CLASSES, DIMENSION, 0.5, 5).sample(8, 3, "site");

  private Store federation(String name, double clip, List<Float> centre) {
    Store store = Store.open(dir.resolve(name).toUri().toString());
    new Federation(store)
        .dimension(DIMENSION)
        .classes(CLASSES)
        .strategy("fedavg")
        .adjust(
            spec ->
                spec.setPrivacy(
                    PrivacySpec.newBuilder()
                        .setMechanism(CentralDp.MECHANISM)
                        .setClipNorm(clip)
                        .setPopulation(10)
                        .setCentre(centre)
                        .build()))
        .execute();
    return store;
  }

  private static ClientSpec client(ClientAlgorithmName algorithm) {
    return ClientSpec.newBuilder()
        .setAlgorithm(algorithm)
        .setEpochs(3)
        .setBatchSize(4)
        .setLearningRate(0.5)
        .build();
  }

  private float[] uploaded(Store store, String state) {
    EdgeTrain.Result result =
        new EdgeTrain(store, "a", site)
            .client(client(ClientAlgorithmName.SGD))
            .stateDir(dir.resolve(state))
            .execute();
    return Models.parameters(new UpdateReader(new Configuration()).read(result.updateFile()));
  }

  @Test
  void theSiteTrainsInCentredCoordinatesAndClipsThere() {
    Store loose = federation("loose", 1e6, CENTRE);
    Model base = loose.readModel(0, 0);
    float[] unclipped = uploaded(loose, "s1");

    // what the edge runner must have done: train the centred head on centred rows, map back
    Centring centring = Centring.of(CENTRE, base);
    ClientSettings settings =
        new EdgeTrain(loose, "a", site)
            .client(client(ClientAlgorithmName.SGD))
            .clientSettings(base);
    ClientRound.Result by =
        ClientRound.run(
            centring.centred(base),
            0,
            centring.shift(site),
            settings,
            SiteState.empty(),
            line -> {},
            LocalTrainer.Progress.NONE);
    float[] expected = by.parameters();
    centring.toStored(expected);
    assertArrayEquals(expected, unclipped, 1e-6f);

    float[] plain = uploaded(federation("uncentred", 1e6, List.of()), "s2");
    double apart = 0;
    for (int i = 0; i < plain.length; i++) {
      apart = Math.max(apart, Math.abs(plain[i] - unclipped[i]));
    }
    assertTrue(apart > 1e-3, "centred training moves differently from plain training: " + apart);

    // clipped at half the centred norm: the stored change is scaled by exactly that factor
    float[] zero = Models.parameters(base);
    double norm = centring.norm(minus(unclipped, zero));
    float[] clipped = uploaded(federation("tight", norm / 2, CENTRE), "s3");
    assertEquals(norm / 2, centring.norm(minus(clipped, zero)), 1e-5 * norm);
    for (int i = 0; i < clipped.length; i++) {
      assertEquals(unclipped[i] / 2, clipped[i], 1e-6, "parameter " + i);
    }
  }

  @Test
  void aCentreRefusesClientModesThatKeepStateInStoredCoordinates() {
    Store store = federation("scaffold", 1.0, CENTRE);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new EdgeTrain(store, "a", site)
                    .client(client(ClientAlgorithmName.SCAFFOLD))
                    .stateDir(dir.resolve("s"))
                    .execute());
    assertEquals(
        "Site a will not train: privacy.centre takes plain labelled training by backprop (sgd or"
            + " prox), not SCAFFOLD, personalisation, unlabeled rows or forward-only training",
        e.getMessage());
  }

  private static float[] minus(float[] a, float[] b) {
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] - b[i];
    }
    return out;
  }
}
