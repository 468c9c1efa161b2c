package fedlake.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetFilesTest {
  private static final Configuration CONF = new Configuration();

  @TempDir Path dir;

  private final Dataset sample = new GaussianClasses(3, 4, 0.3, 1).sample(2, 2, "sample");

  private static String uri(Path file) {
    return new org.apache.hadoop.fs.Path(file.toUri()).toString();
  }

  private Path npyPair(String folder, String prefix) throws IOException {
    Path d = Files.createDirectories(dir.resolve(folder));
    Npy.writeFloat32(d.resolve(prefix + "X.npy"), sample.features(), sample.size(), 4);
    Npy.writeInt32(d.resolve(prefix + "y.npy"), sample.labels());
    return d;
  }

  private void assertSameAsSample(Dataset read) {
    assertEquals(6, read.size());
    assertEquals(4, read.dimension());
    assertArrayEquals(sample.labels(), read.labels());
    assertArrayEquals(sample.features(), read.features(), 1e-7f);
  }

  @Test
  void readsNpyFoldersAndFiles() throws IOException {
    assertSameAsSample(DatasetFiles.read(npyPair("plain", "").toString(), CONF));
    assertSameAsSample(DatasetFiles.read(npyPair("train", "train_").toString(), CONF));
    Path named = npyPair("named", "site7_");
    Dataset read = DatasetFiles.read(named.resolve("site7_X.npy").toString(), CONF);
    assertSameAsSample(read);
    assertEquals(uri(named.resolve("site7_X.npy")), read.source());
    assertEquals(uri(named.resolve("site7_y.npy")), read.labelSource());
  }

  @Test
  void readsParquetFilesAndFolders() throws IOException {
    Path folder = Files.createDirectories(dir.resolve("parquet"));
    DatasetFiles.writeParquet(
        sample, new org.apache.hadoop.fs.Path(folder.resolve("part-0.parquet").toUri()), CONF, "r");
    assertSameAsSample(DatasetFiles.read(folder.resolve("part-0.parquet").toString(), CONF));
    assertSameAsSample(DatasetFiles.read(folder.toString(), CONF));
    assertSameAsSample(DatasetFiles.read(folder.toUri().toString(), CONF));
  }

  @Test
  void refusesWhatItCannotUse() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    InvalidInputException folder =
        assertThrows(InvalidInputException.class, () -> DatasetFiles.read(empty.toString(), CONF));
    assertEquals(
        empty
            + ": folder holds neither X.npy + y.npy, train_X.npy + train_y.npy nor .parquet files",
        folder.getMessage());
    Path csv = Files.writeString(dir.resolve("data.csv"), "1,2,3\n");
    InvalidInputException format =
        assertThrows(InvalidInputException.class, () -> DatasetFiles.read(csv.toString(), CONF));
    assertEquals(
        csv + ": unknown data format: expected a .parquet file, an X.npy file or a folder",
        format.getMessage());
    Path notParquet = Files.writeString(dir.resolve("fake.parquet"), "not parquet at all");
    InvalidInputException parquet =
        assertThrows(
            InvalidInputException.class, () -> DatasetFiles.read(notParquet.toString(), CONF));
    assertEquals(
        uri(notParquet) + ": not a readable Parquet file: truncated or corrupt (no valid footer)",
        parquet.getMessage());
  }

  @Test
  void labelsMustMatchTheRows() throws IOException {
    Path d = npyPair("short", "");
    Npy.writeInt32(d.resolve("y.npy"), new int[] {0, 1});
    InvalidInputException rows =
        assertThrows(InvalidInputException.class, () -> DatasetFiles.read(d.toString(), CONF));
    assertEquals(
        uri(d.resolve("y.npy")) + ": has 2 labels but X.npy has 6 rows", rows.getMessage());
    Npy.writeFloat32(d.resolve("y.npy"), new float[] {0, 1, 2, 0, 1.5f, 2}, 6, 1);
    InvalidInputException shape =
        assertThrows(InvalidInputException.class, () -> DatasetFiles.read(d.toString(), CONF));
    assertEquals(
        uri(d.resolve("y.npy")) + ": labels must be a 1-dimensional array, found shape [6, 1]",
        shape.getMessage());
    Npy.writeInt32(d.resolve("X.npy"), new int[] {1, 2, 3});
    InvalidInputException x =
        assertThrows(InvalidInputException.class, () -> DatasetFiles.read(d.toString(), CONF));
    assertEquals(
        uri(d.resolve("X.npy")) + ": embeddings must be a 2-dimensional array, found shape [3]",
        x.getMessage());
  }
}
