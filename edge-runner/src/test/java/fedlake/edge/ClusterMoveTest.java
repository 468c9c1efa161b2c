package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A site new to a cluster carries over the state of the cluster it trained last, and only its own. */
class ClusterMoveTest {
  @TempDir
  Path dir;

  @Test
  void latestStateOfTheSameSiteIsCarriedOver() throws IOException {
    Path older = Files.writeString(dir.resolve("a-cluster-0.npy"), "x");
    Path newer = Files.writeString(dir.resolve("a-cluster-2.npy"), "x");
    Path other = Files.writeString(dir.resolve("ab-cluster-7.npy"), "x");
    Files.setLastModifiedTime(older, FileTime.fromMillis(1_000));
    Files.setLastModifiedTime(newer, FileTime.fromMillis(2_000));
    Files.setLastModifiedTime(other, FileTime.fromMillis(3_000));
    assertEquals(newer, ClusterMove.previousState(dir.resolve("a-cluster-1.npy"), "a"));
    assertNull(ClusterMove.previousState(dir.resolve("c-cluster-1.npy"), "c"), "a site without state starts from zero");
    assertNull(ClusterMove.previousState(dir.resolve("missing/a-cluster-1.npy"), "a"));
  }
}
