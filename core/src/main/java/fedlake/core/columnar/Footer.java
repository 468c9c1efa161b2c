package fedlake.core.columnar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.parquet.format.CompressionCodec;
import org.apache.parquet.format.Type;

/**
 * What a scan needs of a Parquet footer, decoded field by field from its bytes ({@link
 * CompactBytes}): the row groups with their column chunks' metadata, the writer, and where the
 * schema's bytes lie. The schema itself is not decoded here: files of a round share it, so {@link
 * ColumnarFile} compares its bytes with the last schema it built and decodes it only when they
 * differ. Key-value metadata (parquet-avro's copy of the Avro schema), statistics and everything
 * else a writer may add are skipped without being built.
 */
final class Footer {
  final byte[] bytes;
  final int offset;
  final int length;
  int schemaStart = -1;
  int schemaEnd = -1;
  final List<Group> rowGroups = new ArrayList<>();
  String createdBy;

  /** Column paths decoded on this thread before, by their bytes. */
  private static final ThreadLocal<Paths> PATHS = ThreadLocal.withInitial(Paths::new);

  private final Paths paths = PATHS.get();

  /**
   * The column paths of the last footer decoded on a thread, by position: a path whose bytes are
   * those of the same column in the last footer is that footer's list, not decoded again.
   */
  private static final class Paths {
    private final List<byte[]> encoded = new ArrayList<>();
    private final List<List<String>> decoded = new ArrayList<>();
    private int next;

    void reset() {
      next = 0;
    }

    /** Reads a path of {@code n} strings, its list header already read. */
    List<String> read(CompactBytes in, int n) {
      int start = in.position();
      int slot = next++;
      if (slot < encoded.size()
          && decoded.get(slot).size() == n
          && in.startsWith(encoded.get(slot))) {
        // as many strings, encoded in the same bytes: the same strings
        in.skipBytes(encoded.get(slot).length);
        return decoded.get(slot);
      }
      List<String> path = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        path.add(in.readString());
      }
      List<String> fixed = List.copyOf(path);
      byte[] bytes = in.copy(start, in.position());
      if (slot < encoded.size()) {
        encoded.set(slot, bytes);
        decoded.set(slot, fixed);
      } else {
        encoded.add(bytes);
        decoded.add(fixed);
      }
      return fixed;
    }
  }

  private Footer(byte[] bytes, int offset, int length) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  /**
   * Decodes the footer held in {@code bytes[offset, offset + length)}. {@code knownSchema}, when
   * not null, is the encoded schema of a file read before: when this footer's schema starts with
   * the same bytes, it is the same schema (the encoding delimits itself), and it is stepped over
   * instead of walked.
   */
  static Footer decode(byte[] bytes, int offset, int length, byte[] knownSchema) {
    Footer footer = new Footer(bytes, offset, length);
    footer.paths.reset();
    CompactBytes in = new CompactBytes(bytes, offset, length);
    boolean rowGroups = false;
    in.beginStruct();
    while (in.nextField()) {
      switch (in.fieldId) {
        case 2 -> {
          footer.schemaStart = in.position();
          if (knownSchema != null
              && knownSchema.length <= offset + length - footer.schemaStart
              && Arrays.equals(
                  knownSchema,
                  0,
                  knownSchema.length,
                  bytes,
                  footer.schemaStart,
                  footer.schemaStart + knownSchema.length)) {
            in.skipBytes(knownSchema.length);
          } else {
            in.skipField();
          }
          footer.schemaEnd = in.position();
        }
        case 4 -> {
          int n = in.list("row_groups");
          requireStructs(in, "row_groups");
          for (int i = 0; i < n; i++) {
            footer.rowGroups.add(footer.rowGroup(in));
          }
          rowGroups = true;
        }
        case 6 -> footer.createdBy = in.string("created_by");
        default -> in.skipField();
      }
    }
    if (footer.schemaStart < 0 || !rowGroups) {
      throw new IllegalStateException("the footer has no schema or no row groups");
    }
    return footer;
  }

  private static void requireStructs(CompactBytes in, String what) {
    if (in.elementType != CompactBytes.STRUCT) {
      throw new IllegalStateException(what + " holds type " + in.elementType + ", not structures");
    }
  }

  /** A row group: its row count and its column chunks in file order. */
  record Group(long rows, List<Chunk> columns) {}

  /**
   * What reading a column chunk needs of its metadata (built once per chunk, without the encoding
   * lists, statistics and size histograms a writer adds).
   *
   * @param dictionaryPageOffset -1 when the footer gives none
   */
  record Chunk(
      List<String> path,
      Type type,
      CompressionCodec codec,
      long values,
      long uncompressed,
      long compressed,
      long dataPageOffset,
      long dictionaryPageOffset) {}

  private Group rowGroup(CompactBytes in) {
    List<Chunk> columns = null;
    long rows = -1;
    boolean counted = false;
    in.beginStruct();
    while (in.nextField()) {
      switch (in.fieldId) {
        case 1 -> {
          int n = in.list("columns");
          requireStructs(in, "columns");
          columns = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            columns.add(columnChunk(in));
          }
        }
        case 3 -> {
          rows = in.i64("num_rows");
          counted = true;
        }
        default -> in.skipField();
      }
    }
    if (columns == null || !counted) {
      throw new IllegalStateException("a row group has no columns or no row count");
    }
    return new Group(rows, columns);
  }

  /** The chunk's metadata, or null when the footer gives none (the reader refuses it). */
  private Chunk columnChunk(CompactBytes in) {
    Chunk chunk = null;
    in.beginStruct();
    while (in.nextField()) {
      if (in.fieldId == 3) {
        in.struct("meta_data");
        chunk = columnMetaData(in);
      } else {
        in.skipField();
      }
    }
    return chunk;
  }

  /** The fields of a column chunk's metadata that reading it needs; the structure already begun. */
  private Chunk columnMetaData(CompactBytes in) {
    List<String> path = null;
    Type type = null;
    CompressionCodec codec = null;
    long values = 0;
    long uncompressed = 0;
    long compressed = 0;
    long dataPageOffset = 0;
    long dictionaryPageOffset = -1;
    int seen = 0;
    while (in.nextField()) {
      switch (in.fieldId) {
        case 1 -> {
          type = Type.findByValue(in.i32("type"));
          seen |= 1;
        }
        case 2 -> {
          // required by the format; the pages say how they are encoded
          int n = in.list("encodings");
          if (in.elementType != CompactBytes.I32) {
            throw new IllegalStateException("encodings holds type " + in.elementType);
          }
          for (int i = 0; i < n; i++) {
            in.readI32();
          }
          seen |= 128;
        }
        case 3 -> {
          int n = in.list("path_in_schema");
          if (in.elementType != CompactBytes.BINARY) {
            throw new IllegalStateException("path_in_schema holds type " + in.elementType);
          }
          path = paths.read(in, n);
          seen |= 2;
        }
        case 4 -> {
          codec = CompressionCodec.findByValue(in.i32("codec"));
          seen |= 4;
        }
        case 5 -> {
          values = in.i64("num_values");
          seen |= 8;
        }
        case 6 -> {
          uncompressed = in.i64("total_uncompressed_size");
          seen |= 16;
        }
        case 7 -> {
          compressed = in.i64("total_compressed_size");
          seen |= 32;
        }
        case 9 -> {
          dataPageOffset = in.i64("data_page_offset");
          seen |= 64;
        }
        case 11 -> dictionaryPageOffset = in.i64("dictionary_page_offset");
        default -> in.skipField();
      }
    }
    if (seen != 255) {
      throw new IllegalStateException(
          "a column chunk's metadata lacks a required field (type, encodings, path, codec, value"
              + " count, sizes or data page offset)");
    }
    return new Chunk(
        path, type, codec, values, uncompressed, compressed, dataPageOffset, dictionaryPageOffset);
  }
}
