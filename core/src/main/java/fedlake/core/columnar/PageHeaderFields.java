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

  private PageHeaderFields() {}

  /** Decodes the page header at {@code offset}; {@link #length} tells how many bytes it took. */
  static PageHeaderFields decode(byte[] bytes, int offset, int length) {
    CompactBytes in = new CompactBytes(bytes, offset, length);
    PageHeaderFields h = new PageHeaderFields();
    int seen = 0;
    int detail = 0;
    in.beginStruct();
    while (in.nextField()) {
      switch (in.fieldId) {
        case 1 -> {
          int type = in.i32("page type");
          h.type = PageType.findByValue(type);
          if (h.type == null) {
            throw new IllegalStateException("unknown page type " + type);
          }
          seen |= 1;
        }
        case 2 -> {
          h.uncompressedSize = in.i32("uncompressed_page_size");
          seen |= 2;
        }
        case 3 -> {
          h.compressedSize = in.i32("compressed_page_size");
          seen |= 4;
        }
        case 5 -> {
          in.struct("data_page_header");
          h.dataPage(in);
          detail = 5;
        }
        case 7 -> {
          in.struct("dictionary_page_header");
          h.dictionaryPage(in);
          detail = 7;
        }
        case 8 -> {
          in.struct("data_page_header_v2");
          h.dataPageV2(in);
          detail = 8;
        }
        default -> in.skipField();
      }
    }
    if (seen != 7) {
      throw new IllegalStateException("a page header lacks its type or sizes");
    }
    int wanted =
        switch (h.type) {
          case DATA_PAGE -> 5;
          case DICTIONARY_PAGE -> 7;
          case DATA_PAGE_V2 -> 8;
          default -> detail;
        };
    if (detail != wanted) {
      throw new IllegalStateException("a " + h.type + " page header lacks its details");
    }
    h.length = in.position() - offset;
    return h;
  }

  /** Bytes the header took. */
  int length;

  private void dataPage(CompactBytes in) {
    int seen = 0;
    while (in.nextField()) {
      switch (in.fieldId) {
        case 1 -> {
          values = in.i32("num_values");
          seen |= 1;
        }
        case 2 -> {
          encoding = in.i32("encoding");
          seen |= 2;
        }
        case 3 -> {
          definitionEncoding = in.i32("definition_level_encoding");
          seen |= 4;
        }
        case 4 -> {
          repetitionEncoding = in.i32("repetition_level_encoding");
          seen |= 8;
        }
        default -> in.skipField();
      }
    }
    if (seen != 15) {
      throw new IllegalStateException("a data page header lacks its value count or encodings");
    }
  }

  private void dictionaryPage(CompactBytes in) {
    int seen = 0;
    while (in.nextField()) {
      switch (in.fieldId) {
        case 1 -> {
          values = in.i32("num_values");
          seen |= 1;
        }
        case 2 -> {
          encoding = in.i32("encoding");
          seen |= 2;
        }
        default -> in.skipField();
      }
    }
    if (seen != 3) {
      throw new IllegalStateException("a dictionary page header lacks its value count or encoding");
    }
  }

  private void dataPageV2(CompactBytes in) {
    int seen = 0;
    while (in.nextField()) {
      switch (in.fieldId) {
        case 1 -> {
          values = in.i32("num_values");
          seen |= 1;
        }
        case 2 -> {
          nulls = in.i32("num_nulls");
          seen |= 2;
        }
        case 3 -> {
          rows = in.i32("num_rows");
          seen |= 4;
        }
        case 4 -> {
          encoding = in.i32("encoding");
          seen |= 8;
        }
        case 5 -> {
          definitionBytes = in.i32("definition_levels_byte_length");
          seen |= 16;
        }
        case 6 -> {
          repetitionBytes = in.i32("repetition_levels_byte_length");
          seen |= 32;
        }
        case 7 -> {
          if (in.fieldType != CompactBytes.TRUE && in.fieldType != CompactBytes.FALSE) {
            throw new IllegalStateException("is_compressed is not a boolean");
          }
          compressedData = in.booleanField();
        }
        default -> in.skipField();
      }
    }
    if (seen != 63) {
      throw new IllegalStateException("a data page v2 header lacks a required field");
    }
  }
}
