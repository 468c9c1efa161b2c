package fedlake.core.columnar;

import java.nio.charset.StandardCharsets;

/**
 * Thrift's compact protocol read straight from a byte range, field by field, for the few fields of
 * the Parquet footer and page headers that a scan needs; everything else is skipped without being
 * built. Every length and count is checked against the bytes left before it is used, and nesting is
 * bounded, so no range can make the reader allocate more than the range holds or recurse without
 * end. Problems are {@link IllegalStateException}s naming what was malformed.
 */
final class CompactBytes {
  static final int STOP = 0;
  static final int TRUE = 1;
  static final int FALSE = 2;
  static final int BYTE = 3;
  static final int I16 = 4;
  static final int I32 = 5;
  static final int I64 = 6;
  static final int DOUBLE = 7;
  static final int BINARY = 8;
  static final int LIST = 9;
  static final int SET = 10;
  static final int MAP = 11;
  static final int STRUCT = 12;

  /** Deeper nesting than Parquet's structures ever use. */
  private static final int MAX_DEPTH = 32;

  private byte[] bytes;
  private int position;
  private int end;

  /** Field id and type of the field just begun; {@link #STOP} at a structure's end. */
  int fieldId;

  int fieldType;

  /** Element type and size of the list just begun. */
  int elementType;

  private final int[] lastIds = new int[MAX_DEPTH];
  private int depth;

  CompactBytes(byte[] bytes, int offset, int length) {
    reset(bytes, offset, length);
  }

  /** Reads {@code bytes[offset, offset + length)} from the start (a reader reused per page). */
  CompactBytes reset(byte[] bytes, int offset, int length) {
    if (offset < 0 || length < 0 || offset + length > bytes.length) {
      throw new IllegalStateException("range " + offset + "+" + length + " outside the bytes");
    }
    this.bytes = bytes;
    this.position = offset;
    this.end = offset + length;
    this.depth = 0;
    return this;
  }

  int position() {
    return position;
  }

  /** Enters a structure: field ids count from zero again. */
  void beginStruct() {
    if (depth == MAX_DEPTH) {
      throw new IllegalStateException("nested deeper than " + MAX_DEPTH);
    }
    lastIds[depth++] = 0;
  }

  /**
   * Reads the next field header of the current structure into {@link #fieldId} and {@link
   * #fieldType}; returns false (and leaves the structure) at its end.
   */
  boolean nextField() {
    int header = readByte() & 0xff;
    int type = header & 0x0f;
    if (type == STOP) {
      depth--;
      fieldType = STOP;
      return false;
    }
    int delta = header >>> 4;
    int id = delta != 0 ? lastIds[depth - 1] + delta : zigzag32(readVarint32());
    lastIds[depth - 1] = id;
    fieldId = id;
    fieldType = type;
    return true;
  }

  /** The value of a boolean field (carried in its header). */
  boolean booleanField() {
    return fieldType == TRUE;
  }

  int readI32() {
    return zigzag32(readVarint32());
  }

  long readI64() {
    return zigzag64(readVarint64());
  }

  /** An i32 field's value, or an error naming {@code what} when the field has another type. */
  int i32(String what) {
    require(I32, what);
    return readI32();
  }

  long i64(String what) {
    require(I64, what);
    return readI64();
  }

  String string(String what) {
    require(BINARY, what);
    return readString();
  }

  /** Whether the bytes from here on start with {@code prefix}. */
  boolean startsWith(byte[] prefix) {
    return prefix.length <= end - position
        && java.util.Arrays.equals(
            prefix, 0, prefix.length, bytes, position, position + prefix.length);
  }

  /** Steps over {@code n} bytes already checked to be there. */
  void skipBytes(int n) {
    take(n);
  }

  byte[] copy(int from, int to) {
    return java.util.Arrays.copyOfRange(bytes, from, to);
  }

  /** A string list element. */
  String readString() {
    int length = size();
    String s = new String(bytes, position, length, StandardCharsets.UTF_8);
    position += length;
    return s;
  }

  /**
   * Reads the fields of the structure just begun whose ids are 1 to {@code into.length}, each an
   * i32 or a boolean (1 or 0), into {@code into[id - 1]}, and skips the others; returns the fields
   * seen as a mask (bit {@code id - 1}). The small structures of a page header are all of this
   * kind.
   */
  int smallFields(int[] into, String what) {
    int seen = 0;
    while (nextField()) {
      int id = fieldId;
      if (id < 1 || id > into.length) {
        skipField();
      } else if (fieldType == TRUE || fieldType == FALSE) {
        into[id - 1] = booleanField() ? 1 : 0;
        seen |= 1 << (id - 1);
      } else {
        if (fieldType != I32) { // the name is built only for the error
          require(I32, what + " field " + id);
        }
        into[id - 1] = readI32();
        seen |= 1 << (id - 1);
      }
    }
    return seen;
  }

  /** Begins a list field; returns its size, its element type in {@link #elementType}. */
  int list(String what) {
    if (fieldType != LIST && fieldType != SET) {
      throw new IllegalStateException(what + " is not a list (type " + fieldType + ")");
    }
    return listHeader();
  }

  /** Reads a list header (also of a list nested in a list). */
  int listHeader() {
    int header = readByte() & 0xff;
    int size = header >>> 4;
    elementType = header & 0x0f;
    if (size == 15) {
      size = readVarint32();
    }
    // every element takes at least one byte
    if (size < 0 || size > end - position) {
      throw new IllegalStateException(
          "a list declares " + size + " elements where " + (end - position) + " bytes are left");
    }
    return size;
  }

  /** Requires a structure field. */
  void struct(String what) {
    require(STRUCT, what);
    beginStruct();
  }

  private void require(int type, String what) {
    if (fieldType != type) {
      throw new IllegalStateException(
          what + " has type " + fieldType + " where " + type + " was expected");
    }
  }

  /** Skips the value of the field just begun. */
  void skipField() {
    skip(fieldType, 0);
  }

  /** Skips one value of {@code type} (a list element type, or a field type). */
  void skip(int type, int nesting) {
    if (nesting > MAX_DEPTH) {
      throw new IllegalStateException("nested deeper than " + MAX_DEPTH);
    }
    switch (type) {
      case TRUE, FALSE -> {
        // a field's boolean is in its header; a list element's takes one byte, skipped by the
        // caller through skipElement
      }
      case BYTE -> take(1);
      case I16, I32, I64 -> readVarint64();
      case DOUBLE -> take(8);
      case BINARY -> take(size());
      case LIST, SET -> {
        int n = listHeader();
        int element = elementType;
        for (int i = 0; i < n; i++) {
          skipElement(element, nesting + 1);
        }
      }
      case MAP -> {
        int n = readVarint32();
        if (n < 0 || n > end - position) {
          throw new IllegalStateException("a map declares " + n + " entries");
        }
        if (n > 0) {
          int kinds = readByte() & 0xff;
          for (int i = 0; i < n; i++) {
            skipElement(kinds >>> 4, nesting + 1);
            skipElement(kinds & 0x0f, nesting + 1);
          }
        }
      }
      case STRUCT -> {
        beginStruct();
        while (nextField()) {
          skip(fieldType, nesting + 1);
        }
      }
      default -> throw new IllegalStateException("unknown Thrift type " + type);
    }
  }

  /** Skips one element of a list, set or map of {@code type}. */
  void skipElement(int type, int nesting) {
    if (type == TRUE || type == FALSE) {
      take(1);
    } else {
      skip(type, nesting);
    }
  }

  private int size() {
    int length = readVarint32();
    if (length < 0 || length > end - position) {
      throw new IllegalStateException(
          "a string declares " + length + " bytes where " + (end - position) + " are left");
    }
    return length;
  }

  private void take(int n) {
    if (n > end - position) {
      throw new IllegalStateException("runs past its bytes");
    }
    position += n;
  }

  private byte readByte() {
    if (position >= end) {
      throw new IllegalStateException("runs past its bytes");
    }
    return bytes[position++];
  }

  private int readVarint32() {
    int result = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      byte b = readByte();
      result |= (b & 0x7f) << shift;
      if (b >= 0) {
        return result;
      }
    }
    throw new IllegalStateException("a 32-bit varint runs over 5 bytes");
  }

  private long readVarint64() {
    long result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      byte b = readByte();
      result |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return result;
      }
    }
    throw new IllegalStateException("a 64-bit varint runs over 10 bytes");
  }

  private static int zigzag32(int n) {
    return (n >>> 1) ^ -(n & 1);
  }

  private static long zigzag64(long n) {
    return (n >>> 1) ^ -(n & 1);
  }
}
