package fedlake.core.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.InvalidInputException;
import fedlake.core.store.Store;
import fedlake.schema.SyntheticProvenance;
import fedlake.schema.SyntheticRow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing, reading and refusing synthetic tables in a store. */
class SyntheticTableTest {
  @TempDir Path dir;

  private TextSource text() {
    return new TextSource(
        TextEmbeddings.of("text.npy", new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3), 0.2);
  }

  @Test
  void tableHoldsExactlyMRowsPerClassAndItsProvenance() {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    TextSource source = text();
    List<SyntheticRow> rows =
        SyntheticTable.generate(source, 4, 9, SyntheticTable.MissingClasses.FAIL);
    SyntheticProvenance provenance = SyntheticTable.provenance(source, 4, 9, List.of(), 1234L);
    org.apache.hadoop.fs.Path file = SyntheticTable.inStore(store, "text-demo");
    SyntheticTable.write(store, file, rows, provenance);
    assertEquals(store.path("synthetic/text-demo.parquet"), file);

    SyntheticTable.Table table = SyntheticTable.read(file, store.conf());
    assertEquals(12, table.data().size());
    assertArrayEquals(new long[] {4, 4, 4}, table.data().labelHistogram(3));
    assertEquals("text", table.provenance().getSource());
    assertEquals(9L, table.provenance().getSeed());
    assertEquals(4, table.provenance().getPerClass());
    assertEquals(
        Map.of("text", "text.npy", "noise", "0.2"), Map.copyOf(table.provenance().getParameters()));
    assertEquals(provenance, table.provenance());
    // the same seed gives the same table
    assertEquals(rows, SyntheticTable.generate(source, 4, 9, SyntheticTable.MissingClasses.FAIL));
  }

  @Test
  void anExistingTableIsNeverReplaced() throws IOException {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    org.apache.hadoop.fs.Path file = SyntheticTable.inStore(store, "t");
    SyntheticTable.write(
        store,
        file,
        SyntheticTable.generate(text(), 2, 1, SyntheticTable.MissingClasses.FAIL),
        SyntheticTable.provenance(text(), 2, 1, List.of(), 0L));
    Path local = dir.resolve("store/synthetic/t.parquet");
    byte[] before = Files.readAllBytes(local);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SyntheticTable.write(
                    store,
                    file,
                    SyntheticTable.generate(text(), 3, 2, SyntheticTable.MissingClasses.FAIL),
                    SyntheticTable.provenance(text(), 3, 2, List.of(), 0L)));
    assertEquals(
        "Cannot write synthetic table "
            + file
            + ": it exists already (tables are never replaced; choose another --name or --out)",
        e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(local));
    try (Stream<Path> files = Files.list(local.getParent())) {
      assertEquals(
          List.of("t.parquet"),
          files.map(p -> p.getFileName().toString()).toList(),
          "no temporary file left behind");
    }
  }

  @Test
  void classesWithoutASourceFailOrAreSkipped() {
    GaussianSource source =
        new GaussianSource(
            4,
            2,
            Map.of(
                1,
                new ClassMoments(1, 3, new double[] {1, 0}, new double[] {0.1, 0.1}, null),
                3,
                new ClassMoments(3, 3, new double[] {0, 1}, new double[] {0.1, 0.1}, null)),
            0,
            Map.of());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SyntheticTable.generate(source, 5, 0, SyntheticTable.MissingClasses.FAIL));
    assertEquals(
        "Cannot write a class-balanced table from source 'site-stats': 2 of 4 classes have no source: [0, 2] "
            + "(no site reported statistics for them); pass --skip-missing-classes to write the others",
        e.getMessage());
    List<SyntheticRow> rows =
        SyntheticTable.generate(source, 5, 0, SyntheticTable.MissingClasses.SKIP);
    assertEquals(10, rows.size());
    assertTrue(rows.stream().allMatch(r -> r.getClassId() == 1 || r.getClassId() == 3));

    Store store = Store.open(dir.resolve("store").toUri().toString());
    org.apache.hadoop.fs.Path file = SyntheticTable.inStore(store, "partial");
    SyntheticTable.write(
        store,
        file,
        rows,
        SyntheticTable.provenance(source, 5, 0, SyntheticTable.missing(source), 0L));
    SyntheticTable.Table table = SyntheticTable.read(file, store.conf());
    assertEquals(List.of(0, 2), table.provenance().getMissingClasses());
    assertArrayEquals(new long[] {0, 5, 0, 5}, table.data().labelHistogram(4));
  }

  @Test
  void aParquetFileWithoutProvenanceIsNotATable() throws IOException {
    Store store = Store.open(dir.resolve("store").toUri().toString());
    org.apache.hadoop.fs.Path file = store.path("plain.parquet");
    fedlake.core.store.ParquetFiles.write(
        file,
        store.conf(),
        SyntheticRow.getClassSchema(),
        SyntheticTable.generate(text(), 1, 0, SyntheticTable.MissingClasses.FAIL));
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> SyntheticTable.read(file, store.conf()));
    assertEquals(
        file + ": not a synthetic table: no 'fedlake.synthetic.provenance' in the Parquet footer",
        e.getMessage());
    IllegalArgumentException name =
        assertThrows(IllegalArgumentException.class, () -> SyntheticTable.inStore(store, "../x"));
    assertEquals(
        "Invalid synthetic table name '../x': use 1-128 letters, digits, '.', '_' or '-'",
        name.getMessage());
    FileStatus[] none = store.fileSystem().globStatus(store.path("synthetic/*"));
    assertTrue(none == null || none.length == 0);
  }
}
