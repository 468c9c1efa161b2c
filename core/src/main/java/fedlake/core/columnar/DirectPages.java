package fedlake.core.columnar;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.page.DataPage;
import org.apache.parquet.column.page.DataPageV1;
import org.apache.parquet.column.page.DataPageV2;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.column.page.PageReader;
import org.apache.parquet.format.ColumnMetaData;
import org.apache.parquet.format.CompressionCodec;
import org.apache.parquet.format.converter.ParquetMetadataConverter;

/**
 * The pages of uncompressed column chunks taken straight from a file held in memory: page headers
 * decoded in place, page bytes as views of the file (no copy, no allocation per page). Parquet's
 * column readers and {@link PlainFloats} then decode them as they would pages from Parquet's own
 * reader. Chunks that are compressed are not handled here ({@link #covers}).
 */
final class DirectPages implements PageReadStore {
  private static final ParquetMetadataConverter CONVERTER = new ParquetMetadataConverter();

  private final Map<ColumnDescriptor, Chunk> chunks = new HashMap<>();

  private record Chunk(DictionaryPage dictionary, List<DataPage> pages, long values) {}

  /** Whether a chunk can be read here: written without compression. */
  static boolean covers(ColumnMetaData chunk) {
    return chunk.getCodec() == CompressionCodec.UNCOMPRESSED;
  }

  /**
   * Reads the pages of {@code chunk} (column {@code column}) from {@code file}, the whole file;
   * problems are {@link IllegalStateException}s whose message does not name the file.
   */
  void add(ColumnDescriptor column, ColumnMetaData chunk, byte[] file, int fileLength) {
    // where Parquet's reader starts: the dictionary page when there is one before the data
    long dictionaryAt = chunk.isSetDictionary_page_offset() ? chunk.getDictionary_page_offset() : 0;
    long start =
        dictionaryAt > 0 && dictionaryAt < chunk.getData_page_offset()
            ? dictionaryAt
            : chunk.getData_page_offset();
    long length = chunk.getTotal_compressed_size();
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
    long expected = chunk.getNum_values();
    long values = 0;
    DictionaryPage dictionary = null;
    List<DataPage> pages = new ArrayList<>();
    try {
      while (values < expected && position < end) {
        PageHeaderFields header = PageHeaderFields.decode(file, position, end - position);
        position += header.length;
        int size = header.compressedSize;
        if (size < 0 || size > end - position || header.uncompressedSize != size) {
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
        BytesInput bytes = BytesInput.from(ByteBuffer.wrap(file, position, size).slice());
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
            pages.add(
                DataPageV2.uncompressed(
                    header.rows,
                    header.nulls,
                    header.values,
                    BytesInput.from(ByteBuffer.wrap(file, position, repetition).slice()),
                    BytesInput.from(
                        ByteBuffer.wrap(file, position + repetition, definition).slice()),
                    encoding(header.encoding),
                    BytesInput.from(
                        ByteBuffer.wrap(
                                file,
                                position + repetition + definition,
                                size - repetition - definition)
                            .slice()),
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
    chunks.put(column, new Chunk(dictionary, pages, values));
  }

  /** The column's data page when it has exactly one and no dictionary; else null. */
  DataPage onlyPage(ColumnDescriptor column) {
    Chunk chunk = chunks.get(column);
    return chunk != null && chunk.dictionary() == null && chunk.pages().size() == 1
        ? chunk.pages().get(0)
        : null;
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
    Chunk chunk = chunks.get(column);
    if (chunk == null) {
      throw new IllegalArgumentException("column " + column + " was not read");
    }
    return new ColumnarFile.ListPageReader(chunk.dictionary(), chunk.pages(), chunk.values());
  }

  @Override
  public long getRowCount() {
    return 1;
  }
}
