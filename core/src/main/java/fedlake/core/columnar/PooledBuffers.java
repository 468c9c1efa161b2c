package fedlake.core.columnar;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.parquet.bytes.ByteBufferAllocator;

/**
 * The buffers Parquet's reader reads column chunks into (compressed files, which are not read in
 * place), taken from a pool the thread keeps and given back when the file is closed. A round reads
 * thousands of files of the same shape one after another per thread; a fresh buffer per file costs
 * an allocation, zeroing and fresh memory each time (a third of the scan's time before uncompressed
 * files were read in place). A thread keeps at most {@link #KEPT_LIMIT} bytes of buffers.
 */
final class PooledBuffers implements ByteBufferAllocator {
  static final long KEPT_LIMIT = 16 << 20;

  private static final ThreadLocal<ArrayDeque<ByteBuffer>> POOL =
      ThreadLocal.withInitial(ArrayDeque::new);

  private final ArrayDeque<ByteBuffer> pool = POOL.get();
  private final List<ByteBuffer> lent = new ArrayList<>();

  @Override
  public ByteBuffer allocate(int size) {
    ByteBuffer buffer = null;
    for (Iterator<ByteBuffer> it = pool.iterator(); it.hasNext(); ) {
      ByteBuffer candidate = it.next();
      if (candidate.capacity() >= size) {
        it.remove();
        buffer = candidate;
        break;
      }
    }
    if (buffer == null) {
      buffer = ByteBuffer.allocate(size);
    }
    buffer.clear().limit(size);
    lent.add(buffer);
    return buffer;
  }

  /** Parquet may hand a buffer back early; it returns to the pool when the file is closed. */
  @Override
  public void release(ByteBuffer buffer) {}

  @Override
  public boolean isDirect() {
    return false;
  }

  /** Gives every buffer lent for this file back to the thread's pool. */
  void close() {
    long kept = 0;
    for (ByteBuffer buffer : pool) {
      kept += buffer.capacity();
    }
    for (ByteBuffer buffer : lent) {
      if (kept + buffer.capacity() <= KEPT_LIMIT) {
        pool.addFirst(buffer);
        kept += buffer.capacity();
      }
    }
    lent.clear();
  }
}
