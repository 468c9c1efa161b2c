package fedlake.core.columnar;

import org.apache.parquet.format.PageType;

/**
 * The fields of a Parquet page header that reading the page needs, decoded field by field ({@link
 * CompactBytes}); statistics, checksums and index page headers are skipped.
 */
final class PageHeaderFields {
  PageType type;
  int uncompressedSize;
  int compressedSize;

  /** Of a data page (v1 or v2) or a dictionary page. */
  int values;

  int encoding;

  /** Data page v1 only. */
  int definitionEncoding;

  int repetitionEncoding;

  /** Data page v2 only. */
  int nulls;

  int rows;
  int definitionBytes;
  int repetitionBytes;

  /** Data page v2: whether its values (not its levels) are compressed (the format's default). */
  boolean compressedData = true;

  /** Reused for every header this object reads: a chunk's pages are read one after another. */
  private final CompactBytes in = new CompactBytes(new byte[0], 0, 0);

  // the small structures' fields by id (smallFields reads ids 1 to length and skips the others)
  private final int[] dataFields = new int[4];
  private final int[] dictionaryFields = new int[2];
  private final int[] dataV2Fields = new int[7];

  /** Decodes the page header at {@code offset}; {@link #length} tells how many bytes it took. */
  static PageHeaderFields decode(byte[] bytes, int offset, int length) {
    return new PageHeaderFields().read(bytes, offset, length);
  }

  /**
   * Decodes the page header at {@code offset} into this object (replacing what it held); returns
   * it.
   */
  PageHeaderFields read(byte[] bytes, int offset, int length) {
    CompactBytes in = this.in.reset(bytes, offset, length);
    type = null;
    uncompressedSize = compressedSize = values = encoding = 0;
    definitionEncoding = repetitionEncoding = nulls = rows = 0;
    definitionBytes = repetitionBytes = 0;
    compressedData = true;
    int seen = 0;
    int detail = 0;
    in.beginStruct();
    while (in.nextField()) {
      switch (in.fieldId) {
        case 1 -> {
          int value = in.i32("page type");
          type = PageType.findByValue(value);
          if (type == null) {
            throw new IllegalStateException("unknown page type " + value);
          }
          seen |= 1;
        }
        case 2 -> {
          uncompressedSize = in.i32("uncompressed_page_size");
          seen |= 2;
        }
        case 3 -> {
          compressedSize = in.i32("compressed_page_size");
          seen |= 4;
        }
        case 5 -> {
          in.struct("data_page_header");
          dataPage(in);
          detail = 5;
        }
        case 7 -> {
          in.struct("dictionary_page_header");
          dictionaryPage(in);
          detail = 7;
        }
        case 8 -> {
          in.struct("data_page_header_v2");
          dataPageV2(in);
          detail = 8;
        }
        default -> in.skipField();
      }
    }
    if (seen != 7) {
      throw new IllegalStateException("a page header lacks its type or sizes");
    }
    int wanted =
        switch (type) {
          case DATA_PAGE -> 5;
          case DICTIONARY_PAGE -> 7;
          case DATA_PAGE_V2 -> 8;
          default -> detail;
        };
    if (detail != wanted) {
      throw new IllegalStateException("a " + type + " page header lacks its details");
    }
    this.length = in.position() - offset;
    return this;
  }

  /** Bytes the header took. */
  int length;

  private static int[] cleared(int[] fields) {
    java.util.Arrays.fill(fields, 0);
    return fields;
  }

  private void dataPage(CompactBytes in) {
    int[] f = cleared(dataFields);
    if (in.smallFields(f, "data page header") != 0b1111) {
      throw new IllegalStateException("a data page header lacks its value count or encodings");
    }
    values = f[0];
    encoding = f[1];
    definitionEncoding = f[2];
    repetitionEncoding = f[3];
  }

  private void dictionaryPage(CompactBytes in) {
    int[] f = cleared(dictionaryFields); // field 3, is_sorted, is skipped
    if (in.smallFields(f, "dictionary page header") != 0b11) {
      throw new IllegalStateException("a dictionary page header lacks its value count or encoding");
    }
    values = f[0];
    encoding = f[1];
  }

  private void dataPageV2(CompactBytes in) {
    int[] f = cleared(dataV2Fields);
    int seen = in.smallFields(f, "data page v2 header");
    if ((seen & 0b111111) != 0b111111) {
      throw new IllegalStateException("a data page v2 header lacks a required field");
    }
    values = f[0];
    nulls = f[1];
    rows = f[2];
    encoding = f[3];
    definitionBytes = f[4];
    repetitionBytes = f[5];
    compressedData = (seen & 0b1000000) == 0 || f[6] != 0; // is_compressed, true when absent
  }
}
