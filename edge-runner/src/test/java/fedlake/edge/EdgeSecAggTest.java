package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.core.identity.SiteKeys;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.secagg.SecureRound;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.schema.SecureAggregationSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code edge secagg} through the real CLI: four signed sites train on their own data, one drops
 * out before its masked input, and the published model equals plain FedAvg of the other three's
 * updates within the quantisation step.
 */
class EdgeSecAggTest {
  private static final GaussianClasses DATA = new GaussianClasses(3, 8, 0.5, 5);
  private static final List<String> SITES = List.of("site-a", "site-b", "site-c", "site-d");

  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private static Run edge(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        EdgeMain.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Path data(String site) throws Exception {
    Dataset d = DATA.sample(6, SITES.indexOf(site) + 1, site);
    Path folder = dir.resolve("data-" + site);
    Files.createDirectories(folder);
    Npy.writeFloat32(folder.resolve("X.npy"), d.features(), d.size(), 8);
    Npy.writeInt32(folder.resolve("y.npy"), d.labels());
    return folder;
  }

  private Run secagg(Store store, String site) throws Exception {
    return edge(
        "secagg",
        "--store",
        store.root().toString(),
        "--site",
        site,
        "--data",
        data(site).toString(),
        "--state-dir",
        dir.resolve("state").toString(),
        "--quiet");
  }

  @Test
  void sitesWalkThePhasesAndThePublishedModelIsPlainFedAvgWithinTheQuantisationStep()
      throws Exception {
    Store store = Store.open(dir.resolve("secure").toUri().toString());
    new Federation(store)
        .dimension(8)
        .classes(3)
        .strategy("fedavg")
        .sites(SITES)
        .adjust(
            spec -> {
              spec.getRobustness().setRequireSignatures(true);
              spec.setSecureAggregation(SecureAggregationSpec.newBuilder().setThreshold(3).build());
            })
        .execute();
    for (String site : SITES) {
      assertEquals(
          0, edge("keygen", "--site", site, "--state-dir", dir.resolve("state").toString()).code());
      SiteKeys.add(store, site, Files.readString(dir.resolve("state/keys/" + site + ".pub")));
    }
    Run plain =
        edge(
            "train",
            "--store",
            store.root().toString(),
            "--site",
            "site-a",
            "--data",
            data("site-a").toString(),
            "--state-dir",
            dir.resolve("state").toString());
    assertEquals(2, plain.code());
    assertEquals(
        "fedlake edge: Site site-a will not upload a plain update: the federation runs secure"
            + " aggregation; run edge secagg, which masks the update before it leaves the site\n",
        plain.err());

    for (String site : SITES) {
      Run keys = secagg(store, site);
      assertEquals(0, keys.code(), keys.err());
      assertEquals("site " + site + ", round 0: posted its public keys\n", keys.out());
    }
    Run waiting = secagg(store, "site-a");
    assertEquals(5, waiting.code(), waiting.err());
    assertTrue(
        waiting.out().contains("waiting for the round job to close the phase"), waiting.out());
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, new RoundJob(store).execute().status());
    for (String site : SITES) {
      assertEquals(0, secagg(store, site).code());
    }
    new RoundJob(store).execute();
    for (String site : SITES.subList(0, 3)) {
      Run masked = secagg(store, site);
      assertEquals(0, masked.code(), masked.err());
      assertTrue(
          masked.out().contains("posted its masked input (28 words, masked against 3 sites)"),
          masked.out());
    }
    // site-d never sends its input: the masked phase closes at its deadline without it
    SecureRound.run(
        store,
        Specs.require(store),
        null,
        false,
        System::currentTimeMillis,
        () -> Long.MAX_VALUE / 4);
    Run out = secagg(store, "site-d");
    assertEquals(3, out.code());
    assertEquals(
        "site site-d, round 0: the masked phase closed before this site posted: it sits this round out\n",
        out.out());
    for (String site : SITES.subList(0, 3)) {
      Run unmask = secagg(store, site);
      assertEquals(0, unmask.code(), unmask.err());
      assertTrue(
          unmask
              .out()
              .endsWith(
                  "posted its unmask shares (3 self-mask, 1 pair-mask for sites that dropped)\n"),
          unmask.out());
    }
    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    float[] secure = Models.parameters(store.readModel(1, 0));

    // the same three sites, the same data and settings, in the clear
    Store clear = Store.open(dir.resolve("clear").toUri().toString());
    new Federation(clear).dimension(8).classes(3).strategy("fedavg").execute();
    for (String site : SITES.subList(0, 3)) {
      Run train =
          edge(
              "train",
              "--store",
              clear.root().toString(),
              "--site",
              site,
              "--data",
              data(site).toString(),
              "--state-dir",
              dir.resolve("state-clear").toString(),
              "--quiet");
      assertEquals(0, train.code(), train.err());
    }
    assertEquals(RoundResult.Status.PUBLISHED, new RoundJob(clear).execute().status());
    float[] plainModel = Models.parameters(clear.readModel(1, 0));
    double largest = 0;
    double moved = 0;
    for (int i = 0; i < secure.length; i++) {
      largest = Math.max(largest, Math.abs(secure[i] - plainModel[i]));
      moved = Math.max(moved, Math.abs(plainModel[i]));
    }
    assertTrue(moved > 0.01, "the model moved: " + moved);
    // 3 sites x half a step of 2^-20 per example-weighted word, over 54 examples, plus float
    // rounding
    assertTrue(largest < 1e-6, "largest difference " + largest);
  }
}
