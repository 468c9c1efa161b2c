package fedlake.jobs.bench;

import fedlake.core.cluster.ClusterStore;
import fedlake.core.cluster.RandomProjection;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.schema.SiteProfile;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.hadoop.fs.Path;

/**
 * Seeded site profiles with known groups, for the cluster benchmark and the tests: sites of group g
 * hold labels of the classes {@code c} with {@code c mod groups == g} and update in a direction
 * near group g's own random unit vector ({@code noise} is the spread around it).
 */
public final class SyntheticProfiles {
  private SyntheticProfiles() {}

  /** Profiles and the true group of each. */
  public record Generated(List<SiteProfile> profiles, int[] groups) {}

  public static Generated generate(
      int sites, int groups, int classCount, int dimension, double noise, int round, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[][] centres = new double[groups][dimension];
    for (double[] centre : centres) {
      for (int k = 0; k < dimension; k++) {
        centre[k] = random.nextDouble() * 2 - 1;
      }
      RandomProjection.normalise(centre);
    }
    List<SiteProfile> profiles = new ArrayList<>(sites);
    int[] truth = new int[sites];
    for (int s = 0; s < sites; s++) {
      int g = s % groups;
      truth[s] = g;
      double[] histogram = new double[classCount];
      for (int c = g; c < classCount; c += groups) {
        histogram[c] = random.nextDouble() < 0.6 ? random.nextDouble() : 0;
      }
      histogram[g] += 0.05;
      double total = 0;
      for (double h : histogram) {
        total += h;
      }
      List<Float> shares = new ArrayList<>(classCount);
      for (double h : histogram) {
        shares.add((float) (h / total));
      }
      double[] direction = centres[g].clone();
      for (int k = 0; k < dimension; k++) {
        direction[k] += noise * gaussian(random) / Math.sqrt(dimension);
      }
      RandomProjection.normalise(direction);
      List<Float> d = new ArrayList<>(dimension);
      for (double v : direction) {
        d.add((float) v);
      }
      profiles.add(
          SiteProfile.newBuilder()
              .setRound(round)
              .setSite(String.format("site-%06d", s))
              .setCluster(0)
              .setClusterChoice(null)
              .setChoiceInformative(false)
              .setUpdateId("u-" + s)
              .setBaseModelVersion("r" + round + "-c0-synthetic")
              .setNumExamples(100)
              .setLabelHistogram(shares)
              .setDirection(d)
              .setUpdateNorm(1.0)
              .setEmbeddingMean(null)
              .setProjectionSeed(RandomProjection.SEED_DEFAULT)
              .setCreatedTime(Instant.ofEpochMilli(0))
              .build());
    }
    return new Generated(profiles, truth);
  }

  /**
   * Writes {@code profiles} as the round's profile partition in {@code parts} files, replacing what
   * was there.
   */
  public static void write(Store store, int round, List<SiteProfile> profiles, int parts)
      throws IOException {
    Path dir = ClusterStore.profilesRound(store, round);
    if (store.fileSystem().exists(dir)) {
      store.fileSystem().delete(dir, true);
    }
    int per = (profiles.size() + parts - 1) / parts;
    for (int p = 0; p * per < profiles.size(); p++) {
      List<SiteProfile> part = profiles.subList(p * per, Math.min(profiles.size(), (p + 1) * per));
      ParquetFiles.write(
          new Path(dir, String.format("part-%05d.parquet", p)),
          store.conf(),
          SiteProfile.getClassSchema(),
          part);
    }
  }

  private static double gaussian(SplittableRandom random) {
    return Math.sqrt(-2 * Math.log(1 - random.nextDouble()))
        * Math.cos(2 * Math.PI * random.nextDouble());
  }
}
