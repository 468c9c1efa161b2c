package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import fedlake.core.Fixtures;
import fedlake.core.cluster.ProfileBuilder;
import fedlake.core.cluster.RandomProjection;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.store.Store;
import fedlake.core.strategy.FedAvg;
import fedlake.core.strategy.Strategies;
import fedlake.core.strategy.StrategySettings;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.SiteProfile;
import fedlake.schema.Update;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Profiles built in the scan's one read of each file equal the profiles the builder makes from the
 * same update records, and profiling accepts exactly the updates the round job accepts.
 */
class ScanProfilesTest {
  @TempDir Path dir;

  private static final long NOW = 1_700_000_000_000L;

  @Test
  void scanBuildsTheProfileOfEveryAcceptedUpdateFromOneRead() throws IOException {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    Model base = store.readModel(0, 0);
    ClassStatistics statistics =
        new ClassStatistics(
            1,
            4L,
            FloatArrays.asList(floats(0.6, 0.8)),
            FloatArrays.asList(floats(0.1, 0.1)),
            null);
    // a negative variance fails the statistics check: the round job, which does not read
    // statistics without calibration, accepts the update, so profiling must too (no mean)
    ClassStatistics broken =
        ClassStatistics.newBuilder(statistics)
            .setVariance(FloatArrays.asList(floats(0.1, -0.5)))
            .build();
    Update plain = Fixtures.update(base, "a", 4, floats(4, 1, 1, 1), floats(0, 0)).build();
    Update reported =
        Fixtures.update(base, "b", 10, floats(1, 2, 3, 4), floats(0.5, -0.5))
            .setLabelHistogram(List.of(6L, 4L))
            .setClassStatistics(List.of(statistics))
            .setClusterChoice(0)
            .build();
    Update unchecked =
        Fixtures.update(base, "c", 10, floats(-1, 2, 0, 1), floats(0, 1))
            .setLabelHistogram(List.of(6L, 4L))
            .setClassStatistics(List.of(broken))
            .build();
    Update wrongShape = Fixtures.update(base, "d", 3, floats(1, 1, 1), floats(0, 0)).build();
    for (Update u : List.of(plain, reported, unchecked, wrongShape)) {
      store.writeUpdate(u);
    }

    ProfileBuilder builder = new ProfileBuilder(new RandomProjection(8, 7));
    RoundRules rules =
        new RoundRules(
                new UpdateValidator(
                    0, Map.of(0, base), null, UpdateValidator.MAX_ABS_VALUE_DEFAULT),
                Strategies.named(FedAvg.NAME),
                StrategySettings.of(Strategies.named(FedAvg.NAME), Map.of()),
                Map.of(),
                false,
                RoundJob.MAX_UPDATE_BYTES_DEFAULT)
            .withProfiles(new RoundRules.Profiles(builder, base, true, NOW));
    List<UpdateFile> files =
        store.listUpdates(0).stream()
            .map(s -> new UpdateFile(s.getPath().toString(), s.getLen()))
            .toList();
    ScanResult scan = UpdateSelection.run(files, rules, new LocalScanner(store.fileSystem()));

    assertEquals(4, scan.checks().size());
    assertEquals(3, scan.profiles().size(), "one profile per accepted update");
    for (UpdateCheck check : scan.checks()) {
      SiteProfile profile = scan.profiles().get(check.file());
      if (!check.accepted()) {
        assertEquals("d", check.site());
        assertNull(profile);
        continue;
      }
      Update record =
          List.of(plain, reported, unchecked).stream()
              .filter(u -> u.getSite().equals(check.site()))
              .findFirst()
              .orElseThrow();
      Update expectedFrom =
          record == unchecked ? Update.newBuilder(record).setClassStatistics(null).build() : record;
      assertEquals(builder.build(expectedFrom, base, base, true, NOW), profile, check.site());
    }
    SiteProfile b = profileOf(scan, "b");
    assertNotNull(b.getEmbeddingMean(), "site b reported valid class statistics");
    assertEquals(0, b.getClusterChoice());
    assertEquals(List.of(0.6f, 0.4f), b.getLabelHistogram());
    assertNull(profileOf(scan, "c").getEmbeddingMean(), "statistics that fail the check");
    assertNotNull(
        profileOf(scan, "a").getCentroid(), "holds class 0 of 2, trained the initial model");
    assertNull(b.getCentroid(), "holds every class: the rows' changes add up to zero");
    assertEquals(3, scan.folds().get(0).count(), "profiling folds as the round does");
  }

  private static SiteProfile profileOf(ScanResult scan, String site) {
    return scan.profiles().values().stream()
        .filter(p -> p.getSite().equals(site))
        .findFirst()
        .orElseThrow();
  }
}
