package fedlake.core.store;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * The store's local file system: Hadoop's raw local file system (atomic renames, no checksum side
 * files) with permissions set through the JDK. Without Hadoop's native library, the raw file system
 * starts a {@code chmod} process for every file and folder it creates, which costs more than
 * writing a model.
 */
final class LocalStoreFileSystem extends RawLocalFileSystem {
  private static final PosixFilePermission[] BITS = {
    PosixFilePermission.OTHERS_EXECUTE,
    PosixFilePermission.OTHERS_WRITE,
    PosixFilePermission.OTHERS_READ,
    PosixFilePermission.GROUP_EXECUTE,
    PosixFilePermission.GROUP_WRITE,
    PosixFilePermission.GROUP_READ,
    PosixFilePermission.OWNER_EXECUTE,
    PosixFilePermission.OWNER_WRITE,
    PosixFilePermission.OWNER_READ
  };

  static LocalStoreFileSystem create(Configuration conf) throws IOException {
    LocalStoreFileSystem fs = new LocalStoreFileSystem();
    fs.initialize(URI.create("file:///"), conf);
    return fs;
  }

  @Override
  public void setPermission(Path path, FsPermission permission) throws IOException {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    int mode = permission.toShort();
    for (int bit = 0; bit < BITS.length; bit++) {
      if ((mode & (1 << bit)) != 0) {
        set.add(BITS[bit]);
      }
    }
    try {
      Files.setPosixFilePermissions(pathToFile(path).toPath(), set);
    } catch (UnsupportedOperationException e) {
      super.setPermission(path, permission); // not a POSIX file system
    }
  }
}
