package fedlake.core.store;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.init.Federation;
import fedlake.schema.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreTest {
  @TempDir Path dir;

  private Store store() {
    return Store.open(dir.resolve("store").toString());
  }

  @Test
  void layoutFollowsTheDocumentedNames() {
    Store store = store();
    String root = store.root().toString();
    assertTrue(root.startsWith("file:/") && root.endsWith("/store"), root);
    assertEquals(root + "/models/_LATEST", store.latestPointer().toString());
    assertEquals(root + "/models/round-000003/cluster-1.parquet", store.modelFile(3, 1).toString());
    assertEquals(root + "/updates/round-000012", store.updatesDir(12).toString());
    assertEquals(root + "/history/round-1234567.parquet", store.historyFile(1234567).toString());
    assertEquals(root + "/audit/round-000000.parquet", store.auditFile(0).toString());
  }

  /**
   * Models are read in two parts (small fields as a record, parameters from their columns); files
   * in other forms — compressed with dictionaries, lists in parquet-avro's old two-level layout,
   * server state and a control variate set — read back equal too.
   */
  @Test
  void modelsInEveryFormReadBackEqual() throws Exception {
    Store store = store();
    Model base = new Federation(store).dimension(3).classes(2).execute().get(0);
    Model model =
        Model.newBuilder(base)
            .setRound(1)
            .setVersion("r1-c0-test")
            .setWeights(fedlake.core.model.FloatArrays.asList(floats(1, -2, 3.5f, 0, 1e-8, 7)))
            .setBias(fedlake.core.model.FloatArrays.asList(floats(0.25, -0.5)))
            .setControlVariate(
                fedlake.core.model.FloatArrays.asList(floats(1, 2, 3, 4, 5, 6, 7, 8)))
            .setServerState(
                List.of(
                    new fedlake.schema.StateVector(
                        "momentum", fedlake.core.model.FloatArrays.asList(floats(9, 8, 7)))))
            .build();
    org.apache.hadoop.fs.Path file = store.modelFile(1, 0);
    for (int form = 0; form < 3; form++) {
      org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
      Files.deleteIfExists(Path.of(file.toUri()));
      switch (form) {
        case 0 -> store.writeModel(model);
        case 1 -> ParquetFiles.write(file, conf, Model.getClassSchema(), List.of(model));
        default -> {
          conf.setBoolean(org.apache.parquet.avro.AvroWriteSupport.WRITE_OLD_LIST_STRUCTURE, true);
          try (org.apache.parquet.hadoop.ParquetWriter<Model> writer =
              org.apache.parquet.avro.AvroParquetWriter.<Model>builder(
                      org.apache.parquet.hadoop.util.HadoopOutputFile.fromPath(file, conf))
                  .withSchema(Model.getClassSchema())
                  .withConf(conf)
                  .build()) {
            writer.write(model);
          }
        }
      }
      assertEquals(model, store.readModel(1, 0), "form " + form);
      assertEquals("r1-c0-test", store.readModelVersion(1, 0));
    }
  }

  @Test
  void pointerAndModelsRoundTrip() throws Exception {
    Store store = store();
    assertEquals(Optional.empty(), store.latest());
    assertEquals(List.of(), store.listUpdates(0));
    List<Model> models = new Federation(store).dimension(3).classes(2).clusters(2).execute();
    Latest latest = store.requireLatest();
    assertEquals(0, latest.round());
    assertEquals(
        new TreeMap<>(
            java.util.Map.of(0, models.get(0).getVersion(), 1, models.get(1).getVersion())),
        latest.versions());
    assertEquals(models.get(1), store.readModel(0, 1));
    String pointer = Files.readString(dir.resolve("store/models/_LATEST"));
    assertEquals(
        "# fedlake model pointer: written last, after the model files\nround=0\ncluster.0="
            + models.get(0).getVersion()
            + "\ncluster.1="
            + models.get(1).getVersion()
            + "\n",
        pointer);
    IllegalArgumentException missing =
        assertThrows(IllegalArgumentException.class, () -> latest.version(5));
    assertEquals(
        "Round 0 has no model for cluster 5 (clusters with models: [0, 1])", missing.getMessage());
  }

  @Test
  void initRefusesAStoreThatHasAFederation() {
    Store store = store();
    new Federation(store).dimension(3).classes(2).execute();
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> new Federation(store).dimension(3).classes(2).execute());
    assertEquals(
        "Cannot init "
            + store.root()
            + ": it already holds a federation at round 0 (use a new store URI)",
        e.getMessage());
    IllegalArgumentException classes =
        assertThrows(IllegalArgumentException.class, () -> new Federation(store).classes(1));
    assertEquals("class count must be at least 2, got 1", classes.getMessage());
    IllegalArgumentException required =
        assertThrows(IllegalArgumentException.class, () -> new Federation(store()).execute());
    assertEquals(
        "a federation needs an embedding dimension and a class count", required.getMessage());
  }

  @Test
  void siteRegistryRoundTripAndSiteIdRules() throws Exception {
    Store store = store();
    assertEquals(Optional.empty(), store.registeredSites());
    store.registerSites(List.of("b-site", "a.site_1"));
    assertEquals(Optional.of(Set.of("a.site_1", "b-site")), store.registeredSites());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> store.registerSites(List.of("ok", "no/slash")));
    assertEquals(
        "Invalid site id 'no/slash': use 1-128 letters, digits, '.', '_' or '-', starting with a"
            + " letter or digit, without '--'",
        e.getMessage());
    for (String hidden : List.of(".x", "_x", "-x", "a--b", "")) {
      assertThrows(IllegalArgumentException.class, () -> Store.checkSite(hidden), hidden);
    }
    assertEquals("7.a_b-c", Store.checkSite("7.a_b-c"));
    assertThrows(IllegalArgumentException.class, () -> Store.checkSite("x".repeat(129)));
    assertEquals("x".repeat(128), Store.checkSite("x".repeat(128)));
  }

  @Test
  void publishChecksItsModels() {
    Store store = store();
    IllegalArgumentException none =
        assertThrows(IllegalArgumentException.class, () -> store.publish(1, List.of()));
    assertEquals("Cannot publish round 1: no models", none.getMessage());
    Model roundZero = Fixtures.headModel(0, 1, 2, floats(1, 2), floats(0, 0));
    IllegalArgumentException wrong =
        assertThrows(IllegalArgumentException.class, () -> store.publish(1, List.of(roundZero)));
    assertEquals(
        "Cannot publish round 1: model " + roundZero.getVersion() + " is for round 0",
        wrong.getMessage());
  }

  @Test
  void aBrokenPointerNamesItsFile() throws Exception {
    Store store = store();
    new Federation(store).dimension(3).classes(2).execute();
    Path pointer = dir.resolve("store/models/_LATEST");
    String file = store.latestPointer().toString();
    Files.writeString(pointer, "round=three\ncluster.0=r0-c0-abc\n");
    fedlake.core.InvalidInputException round =
        assertThrows(fedlake.core.InvalidInputException.class, store::latest);
    assertEquals(
        file + ": model pointer has a malformed 'round': 'three' is not a whole number",
        round.getMessage());
    Files.writeString(pointer, "round=1\ncluster.x=r0-c0-abc\n");
    fedlake.core.InvalidInputException cluster =
        assertThrows(fedlake.core.InvalidInputException.class, store::latest);
    assertEquals(
        file + ": model pointer has a malformed 'cluster.x': 'x' is not a whole number",
        cluster.getMessage());
    Files.writeString(pointer, "round=1\n");
    fedlake.core.InvalidInputException none =
        assertThrows(fedlake.core.InvalidInputException.class, store::latest);
    assertEquals(file + ": model pointer names no cluster model", none.getMessage());
    Files.writeString(pointer, "cluster.0=r0-c0-abc\n");
    fedlake.core.InvalidInputException noRound =
        assertThrows(fedlake.core.InvalidInputException.class, store::latest);
    assertEquals(file + ": model pointer has no 'round'", noRound.getMessage());
  }

  @Test
  void openNeedsAUri() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Store.open(" "));
    assertEquals(
        "Cannot open store: no store URI given (file:///path or s3a://bucket/prefix)",
        e.getMessage());
  }
}
