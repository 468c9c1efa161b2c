package fedlake.core.cluster;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.Fixtures;
import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.SiteAssignment;
import fedlake.schema.UpdateAudit;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The round job with assignments: one model per cluster, new clusters from their parent, updates
 * that disagree with their assignment rejected, bad assignments refused with nothing published; and
 * the edge's cluster selection (assignment, IFCA, the tie of identical models).
 */
class ClusteredRoundTest {
  @TempDir Path dir;

  private static final float[] FAVOUR_0 = floats(1, 0, -1, 0);
  private static final float[] FAVOUR_1 = floats(-1, 0, 1, 0);

  private static SiteAssignment assignment(int round, String site, int cluster, Integer parent) {
    return SiteAssignment.newBuilder()
        .setRound(round)
        .setSite(site)
        .setCluster(cluster)
        .setDistance(0.5)
        .setParentCluster(parent)
        .build();
  }

  /**
   * Round 0 with one model; the cluster job split the four sites into cluster 0 and a new cluster
   * 1.
   */
  private Store splitFederation() throws IOException {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    Model base = new Federation(store).dimension(2).classes(2).execute().get(0);
    store.writeUpdate(Fixtures.update(base, "a", 1, FAVOUR_0, floats(0, 0)).build());
    store.writeUpdate(Fixtures.update(base, "b", 3, floats(1, 0, -1, 0), floats(0.4, 0)).build());
    store.writeUpdate(Fixtures.update(base, "c", 1, FAVOUR_1, floats(0, 0)).build());
    store.writeUpdate(Fixtures.update(base, "d", 1, FAVOUR_1, floats(0, 2)).build());
    ClusterStore.writeAssignments(
        store,
        0,
        List.of(
            assignment(0, "a", 0, null),
            assignment(0, "b", 0, null),
            assignment(0, "c", 1, 0),
            assignment(0, "d", 1, 0)));
    return store;
  }

  @Test
  void roundJobPublishesOneModelPerAssignedClusterAndCreatesNewClustersFromTheirParent()
      throws IOException {
    Store store = splitFederation();
    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status());
    assertEquals(
        Map.of(
            0, result.published().get(0).getVersion(), 1, result.published().get(1).getVersion()),
        store.requireLatest().versions());
    Model zero = store.readModel(1, 0);
    Model one = store.readModel(1, 1);
    // cluster 0: (1 * a + 3 * b) / 4; cluster 1: (c + d) / 2
    assertArrayEquals(new float[] {1, 0, -1, 0, 0.3f, 0}, Models.parameters(zero), 1e-6f);
    assertArrayEquals(new float[] {-1, 0, 1, 0, 0, 1}, Models.parameters(one), 1e-6f);
    assertEquals(1, one.getCluster());
    assertEquals(
        store.readModel(0, 0).getVersion(),
        one.getParentVersion(),
        "the new cluster starts from cluster 0's model");
    assertEquals(
        List.of(0, 0, 1, 1), result.audit().stream().map(UpdateAudit::getCluster).toList());
    assertEquals(
        List.of(List.of("a", "b"), List.of("c", "d")),
        result.history().stream().map(h -> h.getParticipantSites()).toList());
  }

  @Test
  void anUpdateForAnotherClusterThanTheAssignedOneIsRejected() throws IOException {
    Store store = splitFederation();
    new RoundJob(store).execute();
    Model zero = store.readModel(1, 0);
    Model one = store.readModel(1, 1);
    store.writeUpdate(Fixtures.update(zero, "a", 2, FAVOUR_0, floats(0, 0)).build());
    store.writeUpdate(
        Fixtures.update(zero, "c", 2, FAVOUR_0, floats(0, 0)).build()); // c belongs to cluster 1
    store.writeUpdate(Fixtures.update(one, "d", 2, FAVOUR_1, floats(0, 0)).build());
    store.writeUpdate(
        Fixtures.update(one, "e", 2, FAVOUR_1, floats(0, 0)).build()); // unassigned: free to choose
    RoundResult result = new RoundJob(store).execute();
    UpdateAudit c =
        result.audit().stream().filter(a -> "c".equals(a.getSite())).findFirst().orElseThrow();
    assertEquals("rejected", c.getStatus());
    assertEquals(
        "cluster 0 disagrees with the site's assignment to cluster 1 ("
            + ClusterStore.assignmentsFile(store, 0)
            + ")",
        c.getReason());
    assertEquals(
        List.of(List.of("a"), List.of("d", "e")),
        result.history().stream().map(h -> h.getParticipantSites()).toList());
  }

  @Test
  void anAssignmentToAClusterWithoutAModelIsRefusedAndNothingIsPublished() throws IOException {
    Store store = splitFederation();
    ClusterStore.writeAssignments(
        store, 0, List.of(assignment(0, "a", 0, null), assignment(0, "b", 7, null)));
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> new RoundJob(store).execute());
    assertEquals(ClusterStore.assignmentsFile(store, 0).toString(), e.file());
    assertEquals(
        "assigns site b to cluster 7, which has no model in round 0 (models: [0]) and is not declared new (no parentCluster)",
        e.reason());
    assertEquals(0, store.requireLatest().round(), "the round-0 model stays published");
    assertEquals(List.of(), store.historyRounds());

    ClusterStore.writeAssignments(
        store, 0, List.of(assignment(0, "a", 0, null), assignment(0, "b", 7, 4)));
    InvalidInputException parent =
        assertThrows(InvalidInputException.class, () -> new RoundJob(store).execute());
    assertEquals(
        "new cluster 7 names parent cluster 4, which has no model in round 0 (models: [0])",
        parent.reason());
  }

  @Test
  void edgeSelectionFollowsTheAssignmentElseTheLowestLoss() throws IOException {
    Store store = splitFederation();
    new RoundJob(store).execute();
    // every row is x = (1, 0) with label 1: cluster 1's model predicts class 1 there
    Dataset data = Dataset.of("site-e.npy", floats(1, 0, 1, 0, 1, 0), new int[] {1, 1, 1}, 2);
    var latest = store.requireLatest();
    ClusterSelection.Selection assigned = ClusterSelection.select(store, latest, "a", null, data);
    assertEquals(0, assigned.cluster());
    assertNull(assigned.choice(), "an assigned site reports no choice");
    ClusterSelection.Selection chosen = ClusterSelection.select(store, latest, "e", null, data);
    assertEquals(1, chosen.cluster());
    assertEquals(1, chosen.choice());
    assertEquals(2, chosen.losses().size());
    assertEquals(
        true, chosen.losses().get(1) < chosen.losses().get(0), "losses " + chosen.losses());
    assertEquals(
        0,
        ClusterSelection.select(store, latest, "e", 0, data).cluster(),
        "an explicit cluster wins");

    ClusterStore.writeAssignments(store, 0, List.of(assignment(0, "a", 5, 0)));
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> ClusterSelection.select(store, latest, "a", null, data));
    assertEquals(
        "assigns site a to cluster 5, but round 1 has models only for clusters [0, 1]", e.reason());
  }

  @Test
  void identicalModelsMakeEverySitePickTheSameCluster() {
    Store store = Store.open(dir.resolve("fresh").toUri().toString());
    new Federation(store).dimension(2).classes(2).clusters(3).execute();
    Dataset one = Dataset.of("one.npy", floats(1, 0), new int[] {1}, 2);
    Dataset zero = Dataset.of("zero.npy", floats(0, 1), new int[] {0}, 2);
    for (Dataset data : List.of(one, zero)) {
      ClusterSelection.Selection s =
          ClusterSelection.select(store, store.requireLatest(), "x", null, data);
      assertEquals(
          0,
          s.cluster(),
          "ties go to the lowest id: the clustering failure of identical initial models");
      assertEquals(Math.log(2), s.losses().get(2), 1e-9);
    }
  }
}
