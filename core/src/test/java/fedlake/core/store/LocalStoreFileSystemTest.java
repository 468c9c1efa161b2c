package fedlake.core.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's own folder listing against Hadoop's raw local file system on the same folder. */
class LocalStoreFileSystemTest {
  @TempDir java.nio.file.Path dir;

  private static List<String> describe(FileStatus[] statuses) {
    return Arrays.stream(statuses)
        .sorted(Comparator.comparing(s -> s.getPath().getName()))
        .map(
            s ->
                s.getPath()
                    + " "
                    + s.isDirectory()
                    + " "
                    + (s.isDirectory() ? 0 : s.getLen())
                    + " "
                    + s.getModificationTime())
        .toList();
  }

  @Test
  void listsWhatHadoopLists() throws Exception {
    Files.write(dir.resolve("empty.parquet"), new byte[0]);
    Files.write(dir.resolve("five.parquet"), new byte[5]);
    Files.write(dir.resolve("a name with spaces%20.parquet"), new byte[1000]);
    Files.write(dir.resolve(".hidden"), new byte[3]);
    Files.createDirectory(dir.resolve("folder"));
    Configuration conf = new Configuration(false);
    LocalStoreFileSystem store = LocalStoreFileSystem.create(conf);
    RawLocalFileSystem hadoop = new RawLocalFileSystem();
    hadoop.initialize(java.net.URI.create("file:///"), conf);
    Path folder = new Path(dir.toUri());
    List<String> listed = describe(store.listStatus(folder));
    assertEquals(describe(hadoop.listStatus(folder)), listed);
    assertEquals(5, listed.size());
    // a file lists as itself
    Path file = new Path(dir.resolve("five.parquet").toUri());
    assertEquals(describe(hadoop.listStatus(file)), describe(store.listStatus(file)));
    assertThrows(
        FileNotFoundException.class,
        () -> store.listStatus(new Path(dir.resolve("missing").toUri())));
  }
}
