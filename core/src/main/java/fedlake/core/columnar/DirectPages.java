package fedlake.core.columnar;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.page.DataPage;
import org.apache.parquet.column.page.DataPageV1;
import org.apache.parquet.column.page.DataPageV2;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.column.page.PageReader;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.compression.CompressionCodecFactory.BytesInputDecompressor;
import org.apache.parquet.format.CompressionCodec;
import org.apache.parquet.format.PageType;
import org.apache.parquet.format.converter.ParquetMetadataConverter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * The pages of uncompressed column chunks taken straight from a file held in memory: page headers
 * decoded in place, page bytes as views of the file (no copy, no allocation per page). Parquet's
 * column readers and {@link PlainFloats} then decode them as they would pages from Parquet's own
 * reader. Chunks that are compressed are not handled here ({@link #covers}).
 */
final class DirectPages implements PageReadStore {
  private static final ParquetMetadataConverter CONVERTER = new ParquetMetadataConverter();

  // by the leaf the file's layout gives a column (no hashing of column paths)
  private final Chunk[] chunks;
  private final java.util.function.ToIntFunction<ColumnDescriptor> leafOf;
  private final PageHeaderFields header = new PageHeaderFields();

  /**
   * Decompressed Snappy pages of the file being read, one after another in a buffer that a thread
   * reuses from file to file (like the file's own bytes, {@link StoreInputFile}); taken while a
   * file is open and given back by {@link #release}.
   */
  private static final ThreadLocal<byte[][]> SPARE = ThreadLocal.withInitial(() -> new byte[1][]);

  private static final int SPARE_LIMIT = 16 << 20;

  private byte[] arena;
  private int used;
  private final CompressionCodecFactory codecs;

  /** Pages of compressed chunks are decompressed with {@code codecs}. */
  DirectPages(
      CompressionCodecFactory codecs,
      int leaves,
      java.util.function.ToIntFunction<ColumnDescriptor> leafOf) {
    this.codecs = codecs;
    this.chunks = new Chunk[leaves];
    this.leafOf = leafOf;
  }

  private record Chunk(DictionaryPage dictionary, List<DataPage> pages, long values) {}

  /**
   * Whether a chunk can be read here: uncompressed, or compressed with a codec Parquet has without
   * Hadoop's native library (Snappy, gzip, zstd, LZ4 raw).
   */
  static boolean covers(Footer.Chunk chunk) {
    CompressionCodec codec = chunk.codec();
    return codec == CompressionCodec.UNCOMPRESSED
        || codec == CompressionCodec.SNAPPY
        || codec == CompressionCodec.GZIP
        || codec == CompressionCodec.ZSTD
        || codec == CompressionCodec.LZ4_RAW;
  }

  /**
   * Reads the pages of {@code chunk} (column {@code column}) from {@code file}, the whole file;
   * problems are {@link IllegalStateException}s whose message does not name the file.
   */
  void add(ColumnDescriptor column, Footer.Chunk chunk, byte[] file, int fileLength) {
    // where Parquet's reader starts: the dictionary page when there is one before the data
    long dictionaryAt = chunk.dictionaryPageOffset();
    long start =
        dictionaryAt > 0 && dictionaryAt < chunk.dataPageOffset()
            ? dictionaryAt
            : chunk.dataPageOffset();
    long length = chunk.compressed();
    if (start < 4 || length < 0 || start + length > fileLength - 8) {
      throw new IllegalStateException(
          name(column)
              + " declares bytes "
              + start
              + ".."
              + (start + length)
              + " outside the file's "
              + fileLength);
    }
    int position = (int) start;
    int end = (int) (start + length);
    long expected = chunk.values();
    long values = 0;
    // uncompressed bytes the pages may take: what the footer declares (checked by the caller)
    long budget = chunk.uncompressed();
    BytesInputDecompressor decompressor =
        chunk.codec() == CompressionCodec.UNCOMPRESSED
            ? null
            : codecs.getDecompressor(CompressionCodecName.fromParquet(chunk.codec()));
    boolean snappy = chunk.codec() == CompressionCodec.SNAPPY;
    DictionaryPage dictionary = null;
    List<DataPage> pages = new ArrayList<>(1);
    try {
      while (values < expected && position < end) {
        PageHeaderFields header = this.header.read(file, position, end - position);
        position += header.length;
        int size = header.compressedSize;
        if (size < 0
            || size > end - position
            || header.uncompressedSize < 0
            || (decompressor == null && header.uncompressedSize != size)) {
          throw new IllegalStateException(
              name(column)
                  + " has a page of "
                  + size
                  + " bytes ("
                  + header.uncompressedSize
                  + " uncompressed) where "
                  + (end - position)
                  + " bytes of its chunk are left");
        }
        if (header.uncompressedSize > budget) {
          throw new IllegalStateException(
              name(column)
                  + " has a page that declares "
                  + header.uncompressedSize
                  + " uncompressed bytes, more than the "
                  + budget
                  + " its footer leaves for it ("
                  + chunk.uncompressed()
                  + " for the column)");
        }
        budget -= header.uncompressedSize;
        BytesInput raw = BytesInput.from(ByteBuffer.wrap(file, position, size).slice());
        BytesInput bytes =
            decompressor == null || header.type == PageType.DATA_PAGE_V2
                ? raw
                : snappy
                    ? unsnappy(column, file, position, size, header.uncompressedSize)
                    : decompress(decompressor, column, raw, header.uncompressedSize);
        switch (header.type) {
          case DICTIONARY_PAGE -> {
            if (dictionary != null || !pages.isEmpty()) {
              throw new IllegalStateException(name(column) + " has a misplaced dictionary");
            }
            dictionary = new DictionaryPage(bytes, header.values, encoding(header.encoding));
          }
          case DATA_PAGE -> {
            requireCount(column, header.values);
            pages.add(
                new DataPageV1(
                    bytes,
                    header.values,
                    size,
                    null,
                    encoding(header.repetitionEncoding),
                    encoding(header.definitionEncoding),
                    encoding(header.encoding)));
            values += header.values;
          }
          case DATA_PAGE_V2 -> {
            requireCount(column, header.values);
            int repetition = header.repetitionBytes;
            int definition = header.definitionBytes;
            if (repetition < 0 || definition < 0 || repetition + definition > size) {
              throw new IllegalStateException(name(column) + " has a page with bad levels");
            }
            BytesInput data =
                BytesInput.from(
                    ByteBuffer.wrap(
                            file,
                            position + repetition + definition,
                            size - repetition - definition)
                        .slice());
            if (decompressor != null && header.compressedData) {
              int at = position + repetition + definition;
              int uncompressed = header.uncompressedSize - repetition - definition;
              data =
                  snappy
                      ? unsnappy(column, file, at, size - repetition - definition, uncompressed)
                      : decompress(decompressor, column, data, uncompressed);
            }
            pages.add(
                DataPageV2.uncompressed(
                    header.rows,
                    header.nulls,
                    header.values,
                    BytesInput.from(ByteBuffer.wrap(file, position, repetition).slice()),
                    BytesInput.from(
                        ByteBuffer.wrap(file, position + repetition, definition).slice()),
                    encoding(header.encoding),
                    data,
                    null));
            values += header.values;
          }
          default -> {
            // index pages: nothing to decode
          }
        }
        position += size;
      }
    } catch (IllegalStateException e) {
      throw e.getMessage().startsWith(name(column))
          ? e
          : new IllegalStateException(
              name(column) + " has an unreadable page header (" + e.getMessage() + ")", e);
    }
    if (values != expected) {
      throw new IllegalStateException(
          name(column)
              + " has pages of "
              + values
              + " values where the footer declares "
              + expected);
    }
    chunks[leafOf.applyAsInt(column)] = new Chunk(dictionary, pages, values);
  }

  /** The column's data page when it has exactly one and no dictionary; else null. */
  DataPage onlyPage(ColumnDescriptor column) {
    Chunk chunk = chunk(column);
    return chunk != null && chunk.dictionary() == null && chunk.pages().size() == 1
        ? chunk.pages().get(0)
        : null;
  }

  /**
   * Snappy page bytes decompressed straight from the file with snappy-java (Parquet's decompressor
   * streams them through a Hadoop codec, several times slower); the length the block declares must
   * be the header's {@code size} (already counted against the footer) before anything is allocated.
   */
  private BytesInput unsnappy(ColumnDescriptor column, byte[] file, int at, int length, int size) {
    try {
      if (size < 0 || org.xerial.snappy.Snappy.uncompressedLength(file, at, length) != size) {
        throw new IllegalStateException(
            name(column)
                + " has a Snappy page that does not hold the "
                + size
                + " bytes its header says");
      }
      byte[] out = room(size);
      int n = org.xerial.snappy.Snappy.uncompress(file, at, length, out, used);
      if (n != size) {
        throw new IllegalStateException(
            name(column) + " has a page of " + n + " bytes where its header says " + size);
      }
      used += size;
      return BytesInput.from(ByteBuffer.wrap(out, used - size, size).slice());
    } catch (IOException e) {
      throw new IllegalStateException(
          name(column) + " has a page that does not decompress (" + e.getMessage() + ")", e);
    }
  }

  /**
   * A page's bytes decompressed to exactly {@code size} bytes (its header's figure, already counted
   * against the footer's).
   */
  private static BytesInput decompress(
      BytesInputDecompressor decompressor, ColumnDescriptor column, BytesInput page, int size) {
    if (size < 0) {
      throw new IllegalStateException(name(column) + " has a page with bad levels");
    }
    try {
      // copied out: the decompressor's buffers are reused by the next page
      byte[] out = decompressor.decompress(page, size).toByteArray();
      if (out.length != size) {
        throw new IllegalStateException(
            name(column) + " has a page of " + out.length + " bytes where its header says " + size);
      }
      return BytesInput.from(out);
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalStateException state && state.getMessage().startsWith(name(column))) {
        throw state;
      }
      throw new IllegalStateException(
          name(column) + " has a page that does not decompress (" + e.getMessage() + ")", e);
    }
  }

  private static final org.apache.parquet.column.Encoding[] ENCODINGS = encodings();

  private static org.apache.parquet.column.Encoding[] encodings() {
    org.apache.parquet.column.Encoding[] byValue = new org.apache.parquet.column.Encoding[16];
    for (org.apache.parquet.format.Encoding e : org.apache.parquet.format.Encoding.values()) {
      if (e.getValue() >= 0 && e.getValue() < byValue.length) {
        try {
          byValue[e.getValue()] = CONVERTER.getEncoding(e);
        } catch (IllegalArgumentException unknown) {
          // an encoding this Parquet cannot read: left null, refused when a page names it
        }
      }
    }
    return byValue;
  }

  /** Parquet's encoding of a page header's encoding number. */
  private static org.apache.parquet.column.Encoding encoding(int value) {
    org.apache.parquet.column.Encoding e =
        value >= 0 && value < ENCODINGS.length ? ENCODINGS[value] : null;
    if (e == null) {
      throw new IllegalStateException("unknown encoding " + value);
    }
    return e;
  }

  private static void requireCount(ColumnDescriptor column, int values) {
    if (values < 0) {
      throw new IllegalStateException(name(column) + " has a page of " + values + " values");
    }
  }

  private static String name(ColumnDescriptor column) {
    return "column " + String.join(".", column.getPath());
  }

  @Override
  public PageReader getPageReader(ColumnDescriptor column) {
    Chunk chunk = chunk(column);
    if (chunk == null) {
      throw new IllegalArgumentException("column " + column + " was not read");
    }
    return new ColumnarFile.ListPageReader(chunk.dictionary(), chunk.pages(), chunk.values());
  }

  private Chunk chunk(ColumnDescriptor column) {
    int leaf = leafOf.applyAsInt(column);
    return leaf < 0 ? null : chunks[leaf];
  }

  /**
   * The buffer to decompress {@code size} more bytes into at {@link #used}: the thread's spare
   * buffer when it is free (a file open in a file is given a fresh one), grown as needed; pages
   * already made keep the buffer they were made in.
   */
  private byte[] room(int size) {
    if (arena == null) {
      byte[][] spare = SPARE.get();
      arena = spare[0] != null ? spare[0] : new byte[0];
      spare[0] = null; // taken until release
    }
    if (arena.length - used < size) {
      arena = new byte[Math.max(size, Math.max(used + size, 2 * arena.length))];
      used = 0;
    }
    return arena;
  }

  /** The file is closed: its pages are no longer read, and the spare buffer can serve the next. */
  void release() {
    if (arena != null && arena.length <= SPARE_LIMIT) {
      SPARE.get()[0] = arena;
    }
    arena = null;
    used = 0;
  }

  @Override
  public long getRowCount() {
    return 1;
  }
}
