package fedlake.core.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A site's state: versioned, atomic, readable after a crash, and reading the layout before it. */
class SiteStateTest {
  private static final String CONTROL = ScaffoldClient.CONTROL;

  @TempDir Path dir;

  private List<String> files(Path folder) throws IOException {
    try (Stream<Path> listed = Files.list(folder)) {
      return listed.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void commitsAreVersionedAndSurviveReopening() throws IOException {
    Path folder = SiteState.folder(dir, "file:/stores/a", "site-1");
    assertEquals(dir, folder.getParent().getParent());
    assertTrue(
        folder.getParent().getFileName().toString().matches("[0-9a-f]{12}"), folder.toString());
    assertEquals("site-1", folder.getFileName().toString());
    assertTrue(
        !SiteState.folder(dir, "file:/stores/b", "site-1").equals(folder),
        "another store keeps another state");
    SiteState empty = SiteState.open(folder);
    assertEquals(0, empty.revision());
    assertNull(empty.vector(0, CONTROL));
    assertNull(empty.latest(CONTROL));
    assertTrue(!Files.exists(folder), "reading writes nothing");

    SiteState first =
        empty
            .edit()
            .put(0, CONTROL, new float[] {1, 2, 3})
            .put(2, CONTROL, new float[] {4, 5})
            .commit();
    assertEquals(1, first.revision());
    SiteState second = first.edit().put(0, CONTROL, new float[] {7, 8, 9}).commit();
    assertEquals(2, second.revision());
    assertNull(empty.vector(0, CONTROL), "a commit leaves the state it came from as it was");

    SiteState read = SiteState.open(folder);
    assertEquals(2, read.revision());
    assertArrayEquals(new float[] {7, 8, 9}, read.vector(0, CONTROL), 0f);
    assertArrayEquals(new float[] {4, 5}, read.vector(2, CONTROL), 0f);
    assertEquals(0, read.latest(CONTROL).cluster(), "cluster 0 was written last");
    assertEquals(Set.of("cluster-0.control", "cluster-2.control"), read.keys());
    assertEquals(
        List.of("cluster-0.control.r2.npy", "cluster-2.control.r1.npy", SiteState.MANIFEST),
        files(folder),
        "the superseded file of cluster 0 is gone");
    List<String> manifest = Files.readAllLines(folder.resolve(SiteState.MANIFEST));
    assertTrue(
        manifest.contains("format=1")
            && manifest.contains("revision=2")
            && manifest.contains("written.cluster-2.control=1")
            && manifest.contains("vector.cluster-0.control=cluster-0.control.r2.npy"),
        String.join("\n", manifest));
  }

  @Test
  void aCrashedCommitLeavesTheLastCommittedStateReadable() throws IOException {
    Path folder = dir.resolve("site");
    SiteState.open(folder).edit().put(0, CONTROL, new float[] {1, 2}).commit();
    // a commit that died after writing its vector and half its manifest, before the renames
    Npy.writeFloat32(folder.resolve("cluster-0.control.r2.npy"), new float[] {66, 66}, 1, 2);
    Files.writeString(folder.resolve(".cluster-0.control.r2.npy.1234.tmp"), "\u0093NUMPY garbage");
    Files.writeString(
        folder.resolve("." + SiteState.MANIFEST + ".5678.tmp"),
        "format=1\nrevision=2\nvector.cluster-0.con");

    SiteState read = SiteState.open(folder);
    assertEquals(1, read.revision());
    assertArrayEquals(
        new float[] {1, 2}, read.vector(0, CONTROL), 0f, "the leftovers are not read");

    SiteState next = read.edit().put(0, CONTROL, new float[] {3, 4}).commit();
    assertEquals(2, next.revision());
    assertArrayEquals(new float[] {3, 4}, SiteState.open(folder).vector(0, CONTROL), 0f);
    assertEquals(
        List.of("cluster-0.control.r2.npy", SiteState.MANIFEST),
        files(folder),
        "the next commit removes the leftovers");
  }

  @Test
  void aManifestOfANewerFormatIsRefused() throws IOException {
    Path folder = Files.createDirectories(dir.resolve("site"));
    Files.writeString(folder.resolve(SiteState.MANIFEST), "format=2\nrevision=9\n");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> SiteState.open(folder));
    assertEquals(
        "The site state "
            + folder.resolve(SiteState.MANIFEST)
            + " has format 2; this runner reads format 1 and older"
            + " (upgrade the runner, or move the folder away to start afresh)",
        e.getMessage());
  }

  @Test
  void aVectorFileMissingFromUnderTheManifestIsReportedAndSkipped() throws IOException {
    Path folder = dir.resolve("site");
    SiteState.open(folder)
        .edit()
        .put(0, CONTROL, new float[] {1})
        .put(1, CONTROL, new float[] {2})
        .commit();
    Files.delete(folder.resolve("cluster-1.control.r1.npy"));
    SiteState read = SiteState.open(folder);
    assertArrayEquals(new float[] {1}, read.vector(0, CONTROL), 0f);
    assertNull(read.vector(1, CONTROL));
    assertEquals(
        List.of(
            "ignoring kept cluster-1.control: "
                + folder.resolve("cluster-1.control.r1.npy")
                + " is missing"),
        read.notes());
  }

  @Test
  void theOldLayoutIsReadNewestLastAndMovedByTheFirstCommit() throws IOException {
    Path store = Files.createDirectories(dir.resolve("0123456789ab"));
    Npy.writeFloat32(store.resolve("a-cluster-0.npy"), new float[] {1, 1}, 1, 2);
    Npy.writeFloat32(store.resolve("a-cluster-2.npy"), new float[] {2, 2}, 1, 2);
    Npy.writeFloat32(store.resolve("ab-cluster-7.npy"), new float[] {7, 7}, 1, 2);
    Npy.writeFloat32(store.resolve("a-cluster-x.npy"), new float[] {9, 9}, 1, 2);
    Files.setLastModifiedTime(store.resolve("a-cluster-2.npy"), FileTime.fromMillis(1_000));
    Files.setLastModifiedTime(store.resolve("a-cluster-0.npy"), FileTime.fromMillis(2_000));
    Files.setLastModifiedTime(store.resolve("ab-cluster-7.npy"), FileTime.fromMillis(3_000));

    SiteState old = SiteState.open(store.resolve("a"));
    assertEquals(
        Set.of("cluster-0.control", "cluster-2.control"), old.keys(), "only site a's files");
    assertEquals(0, old.latest(CONTROL).cluster(), "cluster 0's file is the newer");
    assertArrayEquals(new float[] {2, 2}, old.vector(2, CONTROL), 0f);
    assertEquals(2, old.notes().size(), old.notes().toString());
    assertNull(
        SiteState.open(store.resolve("c")).latest(CONTROL),
        "a site without state starts from nothing");

    old.edit().put(5, CONTROL, new float[] {5, 5}).commit();
    SiteState moved = SiteState.open(store.resolve("a"));
    assertEquals(
        Set.of("cluster-0.control", "cluster-2.control", "cluster-5.control"), moved.keys());
    assertArrayEquals(new float[] {1, 1}, moved.vector(0, CONTROL), 0f);
    assertEquals(5, moved.latest(CONTROL).cluster());
    assertEquals(List.of(), moved.notes(), "read from the new layout now");
  }

  @Test
  void namesAreChecked() {
    SiteState state = SiteState.empty();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> state.edit().put(0, "../x", new float[1]));
    assertEquals("Bad state name '../x': use lower-case letters, digits and '-'", e.getMessage());
    IllegalStateException unsaved =
        assertThrows(
            IllegalStateException.class, () -> state.edit().put(0, CONTROL, new float[1]).commit());
    assertEquals("This site state is not kept anywhere", unsaved.getMessage());
  }
}
