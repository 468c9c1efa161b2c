package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import fedlake.core.Fixtures;
import fedlake.core.cluster.ClusterStore;
import fedlake.core.cluster.ProfileBuilder;
import fedlake.core.cluster.RandomProjection;
import fedlake.core.init.Federation;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.SiteProfile;
import fedlake.schema.Update;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code round --profiles}: the round job writes the profile of every accepted update, built in its
 * one read of each file, the same as the builder makes from the update records.
 */
class RoundProfilesTest {
  @TempDir Path dir;

  @Test
  void roundWritesTheProfilesOfItsAcceptedUpdates() throws IOException {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    Model base = store.readModel(0, 0);
    Update a = Fixtures.update(base, "a", 4, floats(4, 1, 1, 1), floats(0, 0)).build();
    Update b =
        Fixtures.update(base, "b", 10, floats(1, 2, 3, 4), floats(0.5, -0.5))
            .setLabelHistogram(List.of(6L, 4L))
            .build();
    Update nan = Fixtures.update(base, "c", 3, floats(1, Double.NaN, 1, 1), floats(0, 0)).build();
    for (Update u : List.of(a, b, nan)) {
      store.writeUpdate(u);
    }

    RoundResult result = new RoundJob(store).profiles(true).execute();

    assertEquals(RoundResult.Status.PUBLISHED, result.status());
    assertEquals(2, result.accepted());
    org.apache.hadoop.fs.Path part =
        new org.apache.hadoop.fs.Path(ClusterStore.profilesRound(store, 0), "part-00000.parquet");
    List<SiteProfile> read =
        ParquetFiles.<SiteProfile>read(part, store.conf(), SiteProfile.getClassSchema());
    List<SiteProfile> written =
        read.stream().sorted(Comparator.comparing(SiteProfile::getSite)).toList();
    ProfileBuilder builder =
        new ProfileBuilder(
            new RandomProjection(
                RandomProjection.DIMENSION_DEFAULT, RandomProjection.SEED_DEFAULT));
    long now = written.get(0).getCreatedTime().toEpochMilli(); // the job's wall clock
    assertEquals(
        List.of(builder.build(a, base, base, false, now), builder.build(b, base, base, false, now)),
        written,
        "one profile per accepted update (the NaN update has none), as built from its record");
  }

  @Test
  void withoutTheOptionNoProfilesAreWritten() throws IOException {
    Store store = Store.open(dir.resolve("plain").toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    Model base = store.readModel(0, 0);
    store.writeUpdate(Fixtures.update(base, "a", 4, floats(4, 1, 1, 1), floats(0, 0)).build());
    new RoundJob(store).execute();
    assertFalse(store.fileSystem().exists(ClusterStore.profilesRound(store, 0)));
  }
}
