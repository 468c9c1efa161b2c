package fedlake.core.columnar;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.util.HadoopStreams;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;

/**
 * A Parquet input over a file system the caller already holds and a length it already knows from
 * the listing: no status call per file, and no checksum side file on the local file system. A file
 * up to {@link #WHOLE_READ_LIMIT} is read in one request (one GET on an object store) and parsed
 * from memory; larger ones are read in ranges.
 */
final class StoreInputFile implements InputFile {
  /** Largest file read whole into memory. */
  static final long WHOLE_READ_LIMIT = 64L << 20;

  /** Largest buffer a thread keeps for the next file (update files are a few hundred KB). */
  private static final int KEPT_BUFFER_LIMIT = 16 << 20;

  private static final ThreadLocal<byte[]> KEPT = ThreadLocal.withInitial(() -> new byte[0]);

  private final FileSystem fs;
  private final String file;
  private final long length;
  private byte[] whole;

  /**
   * @param file the file as its store listing names it ({@code file:/...} on the local file system)
   */
  StoreInputFile(FileSystem fs, String file, long length) throws IOException {
    this.fs = fs;
    this.file = file;
    this.length = length;
    if (length <= WHOLE_READ_LIMIT) {
      // files are read one after another per thread, and Parquet copies what it keeps: the thread's
      // buffer is reused
      byte[] kept = KEPT.get();
      whole = kept.length >= length ? kept : new byte[(int) length];
      if (whole != kept && length <= KEPT_BUFFER_LIMIT) {
        KEPT.set(whole);
      }
      java.nio.file.Path local = "file".equals(fs.getUri().getScheme()) ? local(file) : null;
      if (local != null) {
        readLocal(local, whole, (int) length);
      } else {
        try (FSDataInputStream in = fs.open(new Path(file))) {
          in.readFully(0, whole, 0, (int) length);
        }
      }
    }
  }

  /**
   * A local file straight through the JDK: Hadoop's local file system checks the file's status and
   * builds statistics on every open, which costs more than reading a small file.
   */
  private static void readLocal(java.nio.file.Path path, byte[] into, int length)
      throws IOException {
    try (FileChannel channel = FileChannel.open(path)) {
      ByteBuffer buffer = ByteBuffer.wrap(into, 0, length);
      while (buffer.hasRemaining()) {
        if (channel.read(buffer, buffer.position()) < 0) {
          throw new EOFException(
              path
                  + " is shorter than the "
                  + length
                  + " bytes listed ("
                  + buffer.position()
                  + ")");
        }
      }
    } catch (java.nio.file.NoSuchFileException e) {
      throw new java.io.FileNotFoundException(path + " does not exist");
    }
  }

  /**
   * The local path of a listed {@code file:} name, without building a URI: Hadoop's local listing
   * names files {@code file:/absolute/path}, with the path as it is on disk (not escaped). Null for
   * another form, which goes through the file system.
   */
  static java.nio.file.Path local(String file) {
    if (file.startsWith("file:///")) {
      return java.nio.file.Path.of(file.substring(7));
    }
    if (file.startsWith("file:/") && !file.startsWith("file://")) {
      return java.nio.file.Path.of(file.substring(5));
    }
    return null;
  }

  /** The whole file, when it was read at open (its first {@link #getLength()} bytes); or null. */
  byte[] whole() {
    return whole;
  }

  @Override
  public long getLength() {
    return length;
  }

  @Override
  public SeekableInputStream newStream() throws IOException {
    return whole != null
        ? new InMemory(whole, (int) length)
        : HadoopStreams.wrap(fs.open(new Path(file)));
  }

  @Override
  public String toString() {
    return file;
  }

  /** A seekable stream over the bytes read at open. */
  private static final class InMemory extends SeekableInputStream {
    private final byte[] bytes;
    private final int end;
    private int position;

    InMemory(byte[] bytes, int end) {
      this.bytes = bytes;
      this.end = end;
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
      if (newPosition < 0 || newPosition > end) {
        throw new EOFException("seek to " + newPosition + " outside 0.." + end);
      }
      position = (int) newPosition;
    }

    @Override
    public int read() {
      return position < end ? bytes[position++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      int n = Math.min(len, end - position);
      if (n <= 0) {
        return -1;
      }
      System.arraycopy(bytes, position, b, off, n);
      position += n;
      return n;
    }

    @Override
    public void readFully(byte[] b, int off, int len) throws IOException {
      if (end - position < len) {
        throw new EOFException(
            "reached the end of the file reading " + len + " bytes at " + position);
      }
      System.arraycopy(bytes, position, b, off, len);
      position += len;
    }

    @Override
    public int read(ByteBuffer buffer) {
      int n = Math.min(buffer.remaining(), end - position);
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
      if (end - position < n) {
        throw new EOFException(
            "reached the end of the file reading " + n + " bytes at " + position);
      }
      buffer.put(bytes, position, n);
      position += n;
    }

    @Override
    public long skip(long n) {
      long skipped = Math.max(0, Math.min(n, end - position));
      position += (int) skipped;
      return skipped;
    }

    @Override
    public int available() {
      return end - position;
    }
  }
}
