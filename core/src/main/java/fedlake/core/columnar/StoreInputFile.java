package fedlake.core.columnar;

import java.io.IOException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.util.HadoopStreams;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;

/**
 * A Parquet input over a file system the caller already holds and a length it already knows from the
 * listing: no status call per file, and no checksum side file on the local file system.
 */
final class StoreInputFile implements InputFile {
  private final FileSystem fs;
  private final Path path;
  private final long length;

  StoreInputFile(FileSystem fs, Path path, long length) {
    this.fs = fs;
    this.path = path;
    this.length = length;
  }

  @Override
  public long getLength() {
    return length;
  }

  @Override
  public SeekableInputStream newStream() throws IOException {
    return HadoopStreams.wrap(fs.open(path));
  }

  @Override
  public String toString() {
    return path.toString();
  }
}
