package fedlake.jobs.actions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.InvalidInputException;
import fedlake.core.cluster.AdjustedRandIndex;
import fedlake.core.cluster.ClusterStore;
import fedlake.core.store.Store;
import fedlake.jobs.SparkTestBase;
import fedlake.jobs.bench.SyntheticProfiles;
import fedlake.schema.ClusterHistory;
import fedlake.schema.SiteAssignment;
import fedlake.schema.SiteProfile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster job on seeded profiles with known groups: known answers, stable ids, collapse and
 * empty clusters, bad input.
 */
class ClusterJobTest extends SparkTestBase {
  private static final int CLASSES = 12;
  private static final int PROJECTED = 16;

  @TempDir Path dir;

  private Store store() {
    return Store.open(dir.resolve("store").toUri().toString());
  }

  private static int[] found(ClusterJob.Result result, List<SiteProfile> profiles) {
    int[] found = new int[profiles.size()];
    for (int i = 0; i < found.length; i++) {
      found[i] = result.assignments().get(profiles.get(i).getSite());
    }
    return found;
  }

  @Test
  void kmeansChoosesThreeClustersBySilhouetteAndRecoversTheGroups() throws IOException {
    Store store = store();
    SyntheticProfiles.Generated g =
        SyntheticProfiles.generate(30, 3, CLASSES, PROJECTED, 0.5, 0, 11);
    SyntheticProfiles.write(store, 0, g.profiles(), 2);
    ClusterJob.Result result = new ClusterJob(spark(), store).round(0).execute();
    assertEquals(3, result.k(), "silhouettes " + result.silhouettes());
    assertEquals("silhouette", result.kChosenBy());
    assertEquals(1.0, AdjustedRandIndex.of(found(result, g.profiles()), g.groups()), 1e-12);
    assertEquals(Map.of(0, 10, 1, 10, 2, 10), result.sizes());
    assertFalse(result.collapsed());
    List<SiteAssignment> rows = ClusterStore.readAssignments(store, 0).orElseThrow().rows();
    assertEquals(30, rows.size());
    assertEquals("site-000000", rows.get(0).getSite(), "sorted by site");
    assertTrue(
        rows.stream()
            .allMatch(
                a -> a.getDistance() >= 0 && a.getRound() == 0 && "nearest".equals(a.getReason())));
    List<ClusterHistory> history = ClusterStore.readHistory(store);
    assertEquals(
        List.of("new", "new", "new"), history.stream().map(ClusterHistory::getStatus).toList());
  }

  @Test
  void restartsKeepKMeansOutOfAPoorLocalOptimum() throws IOException {
    Store store = store();
    // the bench's 4,000 seeded profiles in 5 groups: one k-means|| start merges two groups and
    // splits another
    SyntheticProfiles.Generated g = SyntheticProfiles.generate(4000, 5, 100, 128, 0.8, 0, 4000);
    SyntheticProfiles.write(store, 0, g.profiles(), 1);
    ClusterJob.Result once = new ClusterJob(spark(), store).round(0).k(5).restarts(1).execute();
    assertTrue(
        AdjustedRandIndex.of(found(once, g.profiles()), g.groups()) < 0.9,
        "one start: sizes " + once.sizes());
    ClusterJob.Result best = new ClusterJob(spark(), store).round(0).k(5).execute();
    assertEquals(
        1.0,
        AdjustedRandIndex.of(found(best, g.profiles()), g.groups()),
        1e-12,
        "sizes " + best.sizes());
    assertTrue(
        best.silhouette() > once.silhouette(), once.silhouette() + " -> " + best.silhouette());
  }

  @Test
  void bisectingAndGaussianMixtureFindTheSameGroups() throws IOException {
    Store store = store();
    // a Gaussian mixture fits a covariance per cluster: it needs many sites per dimension
    SyntheticProfiles.Generated g = SyntheticProfiles.generate(150, 3, 3, 4, 0.2, 0, 5);
    SyntheticProfiles.write(store, 0, g.profiles(), 1);
    for (String algorithm : List.of(ClusterJob.BISECTING, ClusterJob.GMM)) {
      ClusterJob.Result result =
          new ClusterJob(spark(), store).round(0).algorithm(algorithm).k(3).execute();
      assertEquals(
          1.0,
          AdjustedRandIndex.of(found(result, g.profiles()), g.groups()),
          1e-12,
          algorithm + ": " + result.sizes());
      assertEquals("fixed", result.kChosenBy());
    }
  }

  @Test
  void clusterIdsStayTheSameWhenTheDataDoNotChange() throws IOException {
    Store store = store();
    SyntheticProfiles.Generated g =
        SyntheticProfiles.generate(30, 3, CLASSES, PROJECTED, 0.5, 0, 11);
    SyntheticProfiles.write(store, 0, g.profiles(), 2);
    Map<String, Integer> first = new ClusterJob(spark(), store).round(0).execute().assignments();
    for (int round = 1; round <= 3; round++) {
      List<SiteProfile> again = new ArrayList<>();
      for (SiteProfile p : g.profiles()) {
        again.add(SiteProfile.newBuilder(p).setRound(round).build());
      }
      Collections.shuffle(
          again,
          new java.util.Random(
              round)); // other file order, other algorithm seed (it depends on the round)
      SyntheticProfiles.write(store, round, again, round + 1);
      ClusterJob.Result result = new ClusterJob(spark(), store).round(round).execute();
      assertEquals(first, result.assignments(), "round " + round);
      assertEquals("previous (kept)", result.kChosenBy(), "round " + round);
      int r = round;
      assertTrue(
          ClusterStore.readHistory(store).stream()
              .filter(h -> h.getRound() == r)
              .allMatch(
                  h ->
                      h.getStatus().equals("assigned")
                          && h.getSites() == 10
                          && h.getPreviousSites() == 10));
    }
  }

  @Test
  void mergingTheGroupsBelowTheMinimumSizeIsReportedAsCollapse() throws IOException {
    Store store = store();
    SyntheticProfiles.Generated g =
        SyntheticProfiles.generate(14, 2, CLASSES, PROJECTED, 0.3, 0, 3);
    List<SiteProfile> kept = new ArrayList<>();
    for (int i = 0; i < g.profiles().size(); i++) {
      if (g.groups()[i] == 0 || i < 6) { // 7 sites of group 0, 3 of group 1
        kept.add(g.profiles().get(i));
      }
    }
    SyntheticProfiles.write(store, 0, kept, 1);
    ClusterJob.Result result = new ClusterJob(spark(), store).round(0).k(2).minSize(4).execute();
    assertTrue(result.collapsed(), "sizes " + result.sizes());
    assertEquals(Map.of(0, 10), result.sizes());
    assertTrue(result.separability() > 0.25, "separability " + result.separability());
    assertEquals(1, result.warnings().size());
    assertTrue(
        result
            .warnings()
            .get(0)
            .startsWith(
                "clustering collapsed: all 10 sites fell into cluster 0 although the profiles separate"),
        result.warnings().get(0));
    ClusterHistory row = ClusterStore.readHistory(store).get(0);
    assertEquals("collapsed", row.getStatus());
    assertEquals(10, row.getSites());
    long moved =
        ClusterStore.readAssignments(store, 0).orElseThrow().rows().stream()
            .filter(a -> "min-size".equals(a.getReason()))
            .count();
    assertEquals(3, moved);
  }

  /**
   * Round-1 profiles: the sites of group 2 now look exactly like site 1 (of group 1), the others as
   * in round 0.
   */
  private static List<SiteProfile> groupTwoLikeSiteOne(SyntheticProfiles.Generated g) {
    SiteProfile model = g.profiles().get(1);
    List<SiteProfile> next = new ArrayList<>();
    for (int i = 0; i < g.profiles().size(); i++) {
      SiteProfile p = g.profiles().get(i);
      next.add(
          g.groups()[i] == 2
              ? SiteProfile.newBuilder(model).setSite(p.getSite()).setRound(1).build()
              : SiteProfile.newBuilder(p).setRound(1).build());
    }
    return next;
  }

  @Test
  void aClusterWhoseSitesMovedIsReportedEmpty() throws IOException {
    Store store = store();
    SyntheticProfiles.Generated g =
        SyntheticProfiles.generate(30, 3, CLASSES, PROJECTED, 0.3, 0, 7);
    SyntheticProfiles.write(store, 0, g.profiles(), 1);
    Map<String, Integer> first =
        new ClusterJob(spark(), store).round(0).k(3).execute().assignments();
    SyntheticProfiles.write(store, 1, groupTwoLikeSiteOne(g), 1);
    ClusterJob.Result result = new ClusterJob(spark(), store).round(1).k(2).execute();
    int groupOne = first.get(g.profiles().get(1).getSite());
    int groupTwo = first.get(g.profiles().get(2).getSite());
    assertEquals(1, result.emptied().size(), "sizes " + result.sizes());
    assertTrue(
        result.emptied().get(0) == groupOne || result.emptied().get(0) == groupTwo,
        "emptied " + result.emptied());
    assertEquals(
        first.get(g.profiles().get(0).getSite()),
        result.assignments().get(g.profiles().get(0).getSite()),
        "group 0 keeps its id");
    ClusterHistory empty =
        ClusterStore.readHistory(store).stream()
            .filter(h -> h.getRound() == 1 && h.getStatus().equals("empty"))
            .findFirst()
            .orElseThrow();
    assertEquals(0, empty.getSites());
    assertEquals(10, empty.getPreviousSites());
    assertEquals(
        "cluster "
            + empty.getCluster()
            + " is empty: it held 10 site(s) in the previous assignment and holds none in round 1",
        empty.getMessage());
  }

  @Test
  void aFreshPartitionBetterThreeRoundsRunningReplacesAKeptMerge() throws IOException {
    Store store = store();
    SyntheticProfiles.Generated g =
        SyntheticProfiles.generate(30, 3, CLASSES, PROJECTED, 0.3, 0, 7);
    SyntheticProfiles.write(store, 0, g.profiles(), 1);
    // round 0 merges two of the three groups (two clusters asked for)
    ClusterJob.Result merged = new ClusterJob(spark(), store).round(0).k(2).execute();
    assertTrue(AdjustedRandIndex.of(found(merged, g.profiles()), g.groups()) < 0.9);
    for (int round = 1; round <= 3; round++) {
      List<SiteProfile> again = new ArrayList<>();
      for (SiteProfile p : g.profiles()) {
        again.add(SiteProfile.newBuilder(p).setRound(round).build());
      }
      SyntheticProfiles.write(store, round, again, round + 1);
      // a margin no fresh fit can win by: only the evidence of several rounds replaces the merge
      ClusterJob.Result result =
          new ClusterJob(spark(), store).round(round).kChangeMargin(10).execute();
      if (round < 3) {
        // the split test sees the merge too, but splits a kept partition only after three rounds
        assertEquals(
            "previous (kept) (1 cluster(s) disagree)", result.kChosenBy(), "round " + round);
        assertEquals(2, result.sizes().size(), "round " + round);
      } else {
        assertEquals("silhouette (better 3 rounds running)", result.kChosenBy());
        assertEquals(1.0, AdjustedRandIndex.of(found(result, g.profiles()), g.groups()), 1e-12);
      }
    }
  }

  @Test
  void thePreviousAssignmentIsReplacedOnlyByAClearlyBetterFit() throws IOException {
    Store store = store();
    SyntheticProfiles.Generated g =
        SyntheticProfiles.generate(30, 3, CLASSES, PROJECTED, 0.3, 0, 7);
    SyntheticProfiles.write(store, 0, g.profiles(), 1);
    Map<String, Integer> first = new ClusterJob(spark(), store).round(0).execute().assignments();
    SyntheticProfiles.write(store, 1, groupTwoLikeSiteOne(g), 1);

    ClusterJob.Result kept = new ClusterJob(spark(), store).round(1).kChangeMargin(1.0).execute();
    assertEquals("previous (kept)", kept.kChosenBy());
    assertEquals(3, kept.sizes().size(), "sizes " + kept.sizes());
    String site0 = g.profiles().get(0).getSite();
    assertEquals(first.get(site0), kept.assignments().get(site0));

    ClusterJob.Result changed =
        new ClusterJob(spark(), store).round(1).execute(); // a rerun replaces round 1's files
    // group 2's ten copies of site 1 form a tight knot inside group 1's cluster: the split test
    // notes the disagreement, but one round of it does not split a federation that has a previous
    // assignment (three rounds running would)
    assertEquals("silhouette (1 cluster(s) disagree)", changed.kChosenBy());
    assertEquals(
        2,
        changed.k(),
        "silhouettes " + changed.silhouettes() + ", previous kept at " + kept.silhouette());
    assertTrue(changed.silhouette() - kept.silhouette() >= ClusterJob.K_CHANGE_MARGIN_DEFAULT);
    assertEquals(first.get(site0), changed.assignments().get(site0), "group 0 keeps its id");
    assertEquals(
        2,
        ClusterStore.readAssignments(store, 1).orElseThrow().rows().stream()
            .map(SiteAssignment::getCluster)
            .distinct()
            .count(),
        "the rerun's assignment replaced the first");
  }

  /**
   * Profiles of {@code 3 * per} sites (site s in group s mod 3) with identical label histograms:
   * the direction of group g is {@code directions[g]} plus Gaussian noise of {@code sigma} per
   * value, the centroid {@code centroids[g]} plus the same noise (no centroid when null).
   */
  private static List<SiteProfile> placed(
      int round, double[][] directions, double[][] centroids, double sigma, long seed) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    List<SiteProfile> profiles = new ArrayList<>();
    List<Float> histogram = Collections.nCopies(CLASSES, 1f / CLASSES);
    for (int s = 0; s < 30; s++) {
      int g = s % 3;
      profiles.add(
          SiteProfile.newBuilder()
              .setRound(round)
              .setSite(String.format("site-%06d", s))
              .setCluster(0)
              .setClusterChoice(null)
              .setChoiceInformative(false)
              .setUpdateId("u-" + s)
              .setBaseModelVersion("r" + round + "-c0-placed")
              .setNumExamples(100)
              .setLabelHistogram(histogram)
              .setDirection(noisy(directions[g], sigma, random))
              .setUpdateNorm(1.0)
              .setCentroid(centroids == null ? null : noisy(centroids[g], sigma, random))
              .setProjectionSeed(0)
              .setCreatedTime(java.time.Instant.EPOCH)
              .build());
    }
    return profiles;
  }

  private static List<Float> noisy(double[] centre, double sigma, java.util.SplittableRandom r) {
    List<Float> values = new ArrayList<>();
    for (double c : centre) {
      double gaussian =
          Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
      values.add((float) (c + sigma * gaussian));
    }
    return values;
  }

  /** A PROJECTED-long vector with {@code value} at {@code index}, else zeros. */
  private static double[] axis(int index, double value) {
    double[] v = new double[PROJECTED];
    v[index] = value;
    return v;
  }

  private static final int[] THREE_GROUPS = new int[30];

  static {
    for (int s = 0; s < 30; s++) {
      THREE_GROUPS[s] = s % 3;
    }
  }

  @Test
  void theCentroidTellsApartGroupsThatHoldTheSameLabelsAndMoveAlike() throws IOException {
    Store store = store();
    // issue 12's case in small: groups 1 and 2 share label ids and move their heads alike (same
    // direction), only where their data lie (the centroid) differs
    List<SiteProfile> profiles =
        placed(
            0,
            new double[][] {axis(0, -1), axis(0, 1), axis(0, 1)},
            new double[][] {axis(1, 1), axis(2, 1), axis(3, 1)},
            0.05,
            12);
    SyntheticProfiles.write(store, 0, profiles, 2);
    ClusterJob.Result old =
        new ClusterJob(spark(), store)
            .round(0)
            .weights(fedlake.core.cluster.ProfileFeatures.parse("1,1,1,1,0"))
            .execute();
    assertEquals(2, old.k(), "without the centroid: silhouettes " + old.silhouettes());
    int[] merged = new int[30];
    for (int s = 0; s < 30; s++) {
      merged[s] = old.assignments().get(profiles.get(s).getSite());
    }
    assertEquals(
        0.5538,
        AdjustedRandIndex.of(merged, THREE_GROUPS),
        1e-4,
        "groups 1 and 2 merged, as issue 12 measured: sizes " + old.sizes());
    assertEquals("silhouette", old.kChosenBy(), "the merged cluster does not split in two");

    ClusterJob.Result result = new ClusterJob(spark(), store).round(0).execute();
    assertEquals(3, result.k(), "silhouettes " + result.silhouettes());
    int[] found = new int[30];
    for (int s = 0; s < 30; s++) {
      found[s] = result.assignments().get(profiles.get(s).getSite());
    }
    assertEquals(1.0, AdjustedRandIndex.of(found, THREE_GROUPS), 1e-12);
  }

  @Test
  void aClusterWhoseMembersFallIntoTwoGroupsIsSplitAtOnceInTheFirstRoundAndOnEvidenceLater()
      throws IOException {
    // group 0 lies far from groups 1 and 2, which lie apart from each other but close: the
    // silhouette over k scores the two of them merged higher (k = 2); the split test splits them
    double[][] directions = {axis(0, -1), axis(0, 1), axis(0, 1)};
    directions[2][1] = 0.55;
    Store store = store();
    List<SiteProfile> profiles = placed(0, directions, null, 0.05, 5);
    SyntheticProfiles.write(store, 0, profiles, 1);
    ClusterJob.Result first = new ClusterJob(spark(), store).round(0).execute();
    assertTrue(
        first.silhouettes().get(2) > first.silhouettes().get(3),
        "k = 2 wins the silhouette: " + first.silhouettes());
    assertEquals("silhouette + split of 1 disagreeing cluster(s)", first.kChosenBy());
    assertEquals(3, first.sizes().size(), "sizes " + first.sizes());
    assertEquals(1.0, AdjustedRandIndex.of(found(first, profiles), THREE_GROUPS), 1e-12);

    // a kept partition that merged them is split only after three rounds of disagreement
    Store later = Store.open(dir.resolve("later").toUri().toString());
    SyntheticProfiles.write(later, 0, profiles, 1);
    new ClusterJob(spark(), later).round(0).k(2).execute();
    for (int round = 1; round <= 3; round++) {
      List<SiteProfile> again = new ArrayList<>();
      for (SiteProfile p : profiles) {
        again.add(SiteProfile.newBuilder(p).setRound(round).build());
      }
      SyntheticProfiles.write(later, round, again, 1);
      ClusterJob.Result result = new ClusterJob(spark(), later).round(round).execute();
      if (round < 3) {
        assertEquals("previous (kept) (1 cluster(s) disagree)", result.kChosenBy());
        assertEquals(2, result.sizes().size(), "round " + round);
      } else {
        assertEquals("previous (kept) + split of 1 disagreeing cluster(s)", result.kChosenBy());
        assertEquals(1.0, AdjustedRandIndex.of(found(result, again), THREE_GROUPS), 1e-12);
      }
    }
  }

  @Test
  void badProfilesAndImpossibleKAreClearErrors() throws IOException {
    Store store = store();
    SyntheticProfiles.Generated g = SyntheticProfiles.generate(6, 2, CLASSES, PROJECTED, 0.3, 0, 1);
    SyntheticProfiles.write(store, 0, g.profiles(), 1);
    IllegalArgumentException tooMany =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ClusterJob(spark(), store).round(0).k(7).execute());
    assertEquals(
        "Cannot make 7 clusters from 6 site profile(s) in " + ClusterStore.profilesRound(store, 0),
        tooMany.getMessage());

    List<SiteProfile> broken = new ArrayList<>(g.profiles());
    List<Float> direction = new ArrayList<>(broken.get(4).getDirection());
    direction.set(5, Float.NaN);
    broken.set(4, SiteProfile.newBuilder(broken.get(4)).setDirection(direction).build());
    SyntheticProfiles.write(store, 1, broken, 1);
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class, () -> new ClusterJob(spark(), store).round(1).execute());
    assertTrue(e.file().endsWith("profiles/round=1/part-00000.parquet"), e.file());
    assertEquals("site site-000004: non-finite value NaN in direction at position 5", e.reason());
    assertFalse(ClusterStore.readAssignments(store, 1).isPresent(), "nothing written");

    IllegalStateException none =
        assertThrows(
            IllegalStateException.class, () -> new ClusterJob(spark(), store).round(9).execute());
    assertTrue(none.getMessage().startsWith("No profiles for round 9 in "), none.getMessage());
  }
}
