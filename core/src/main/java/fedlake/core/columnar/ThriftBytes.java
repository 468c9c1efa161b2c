package fedlake.core.columnar;

import shaded.parquet.org.apache.thrift.TBase;
import shaded.parquet.org.apache.thrift.TConfiguration;
import shaded.parquet.org.apache.thrift.TException;
import shaded.parquet.org.apache.thrift.protocol.TCompactProtocol;
import shaded.parquet.org.apache.thrift.transport.TTransport;
import shaded.parquet.org.apache.thrift.transport.TTransportException;

/**
 * Thrift structures (the Parquet footer, page headers) decoded straight from a byte range in
 * memory. Thrift's compact protocol reads a buffer-backed transport byte by byte without a call per
 * byte (Parquet's own reader goes through an input stream), and every length a structure declares
 * is checked against the bytes that are left before anything is allocated for it.
 */
final class ThriftBytes extends TTransport {
  private static final TConfiguration CONFIGURATION = new TConfiguration();

  private final byte[] bytes;
  private int position;
  private final int end;

  ThriftBytes(byte[] bytes, int offset, int length) {
    this.bytes = bytes;
    this.position = offset;
    this.end = offset + length;
  }

  /** Reads {@code into} from the range; returns the number of bytes it took. */
  static <T extends TBase<?, ?>> int read(T into, byte[] bytes, int offset, int length)
      throws TException {
    ThriftBytes transport = new ThriftBytes(bytes, offset, length);
    into.read(new TCompactProtocol(transport));
    return transport.position - offset;
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public void open() {}

  @Override
  public void close() {}

  @Override
  public int read(byte[] into, int offset, int length) throws TTransportException {
    int n = Math.min(length, end - position);
    if (n <= 0 && length > 0) {
      throw new TTransportException(
          TTransportException.END_OF_FILE, "structure runs past its bytes");
    }
    System.arraycopy(bytes, position, into, offset, n);
    position += n;
    return n;
  }

  @Override
  public void write(byte[] from, int offset, int length) {
    throw new UnsupportedOperationException("read only");
  }

  @Override
  public byte[] getBuffer() {
    return bytes;
  }

  @Override
  public int getBufferPosition() {
    return position;
  }

  @Override
  public int getBytesRemainingInBuffer() {
    return end - position;
  }

  @Override
  public void consumeBuffer(int length) {
    position += length;
  }

  @Override
  public TConfiguration getConfiguration() {
    return CONFIGURATION;
  }

  @Override
  public void updateKnownMessageSize(long size) {}

  @Override
  public void checkReadBytesAvailable(long count) throws TTransportException {
    if (count < 0 || count > end - position) {
      throw new TTransportException(
          TTransportException.END_OF_FILE,
          "declares " + count + " bytes where " + (end - position) + " are left");
    }
  }
}
