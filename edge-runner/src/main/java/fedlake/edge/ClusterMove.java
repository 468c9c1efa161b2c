package fedlake.edge;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A site that starts training a cluster it has no SCAFFOLD state for yet carries over the control
 * variate of the cluster it trained last. When the cluster job splits a cluster, the new cluster's
 * server control variate is built from its sites' changes relative to exactly that state, so starting
 * from zero would leave the server's variate out of step with the sites' for the rest of the run.
 */
final class ClusterMove {
  private ClusterMove() {}

  /** The site's most recently written state file of another cluster beside {@code missing}, or null. */
  static Path previousState(Path missing, String site) {
    Path dir = missing.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      return null;
    }
    String prefix = site + "-cluster-";
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().startsWith(prefix) && f.getFileName().toString().endsWith(".npy"))
          .max(Comparator.comparing(ClusterMove::modified))
          .orElse(null);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list the site state in " + dir, e);
    }
  }

  private static java.nio.file.attribute.FileTime modified(Path file) {
    try {
      return Files.getLastModifiedTime(file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }
}
