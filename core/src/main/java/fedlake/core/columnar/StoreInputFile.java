package fedlake.core.columnar;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.util.HadoopStreams;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;

/**
 * A Parquet input over a file system the caller already holds and a length it already knows from the
 * listing: no status call per file, and no checksum side file on the local file system. A file up to
 * {@link #WHOLE_READ_LIMIT} is read in one request (one GET on an object store) and parsed from memory;
 * larger ones are read in ranges.
 */
final class StoreInputFile implements InputFile {
  /** Largest file read whole into memory. */
  static final long WHOLE_READ_LIMIT = 64L << 20;

  private final FileSystem fs;
  private final Path path;
  private final long length;
  private byte[] whole;

  StoreInputFile(FileSystem fs, Path path, long length) throws IOException {
    this.fs = fs;
    this.path = path;
    this.length = length;
    if (length <= WHOLE_READ_LIMIT) {
      whole = new byte[(int) length];
      try (FSDataInputStream in = fs.open(path)) {
        in.readFully(0, whole);
      }
    }
  }

  @Override
  public long getLength() {
    return length;
  }

  @Override
  public SeekableInputStream newStream() throws IOException {
    return whole != null ? new InMemory(whole) : HadoopStreams.wrap(fs.open(path));
  }

  @Override
  public String toString() {
    return path.toString();
  }

  /** A seekable stream over the bytes read at open. */
  private static final class InMemory extends SeekableInputStream {
    private final byte[] bytes;
    private int position;

    InMemory(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public void readFully(byte[] b) throws IOException {
      readFully(b, 0, b.length);
    }

    @Override
    public long getPos() {
      return position;
    }

    @Override
    public void seek(long newPosition) throws IOException {
      if (newPosition < 0 || newPosition > bytes.length) {
        throw new EOFException("seek to " + newPosition + " outside 0.." + bytes.length);
      }
      position = (int) newPosition;
    }

    @Override
    public int read() {
      return position < bytes.length ? bytes[position++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      int n = Math.min(len, bytes.length - position);
      if (n <= 0) {
        return -1;
      }
      System.arraycopy(bytes, position, b, off, n);
      position += n;
      return n;
    }

    @Override
    public void readFully(byte[] b, int off, int len) throws IOException {
      if (bytes.length - position < len) {
        throw new EOFException("reached the end of the file reading " + len + " bytes at " + position);
      }
      System.arraycopy(bytes, position, b, off, len);
      position += len;
    }

    @Override
    public int read(ByteBuffer buffer) {
      int n = Math.min(buffer.remaining(), bytes.length - position);
      if (n <= 0) {
        return buffer.remaining() == 0 ? 0 : -1;
      }
      buffer.put(bytes, position, n);
      position += n;
      return n;
    }

    @Override
    public void readFully(ByteBuffer buffer) throws IOException {
      int n = buffer.remaining();
      if (bytes.length - position < n) {
        throw new EOFException("reached the end of the file reading " + n + " bytes at " + position);
      }
      buffer.put(bytes, position, n);
      position += n;
    }

    @Override
    public long skip(long n) {
      long skipped = Math.max(0, Math.min(n, bytes.length - position));
      position += (int) skipped;
      return skipped;
    }

    @Override
    public int available() {
      return bytes.length - position;
    }
  }
}
