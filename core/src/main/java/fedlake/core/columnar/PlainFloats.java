package fedlake.core.columnar;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.parquet.bytes.ByteBufferInputStream;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.page.DataPage;
import org.apache.parquet.column.page.DataPageV1;
import org.apache.parquet.column.page.DataPageV2;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.values.rle.RunLengthBitPackingHybridDecoder;

/**
 * Bulk decoding of the common case: a page of PLAIN floats whose definition levels are all at their
 * maximum (no null or empty entries). The values are then contiguous little-endian floats and are
 * copied in one call; dictionary-encoded pages are looked up index by index. Any other page returns
 * -1 and is left to Parquet's general reader.
 */
final class PlainFloats {
  private PlainFloats() {}

  /** The same page over a buffer that can be read any number of times (null stays null). */
  static DataPage reusable(DataPage page) throws IOException {
    if (page instanceof DataPageV1 v1) {
      return new DataPageV1(
          BytesInput.from(v1.getBytes().toByteBuffer()),
          v1.getValueCount(),
          v1.getUncompressedSize(),
          v1.getStatistics(),
          v1.getRlEncoding(),
          v1.getDlEncoding(),
          v1.getValueEncoding());
    }
    if (page instanceof DataPageV2 v2 && !v2.isCompressed()) {
      return DataPageV2.uncompressed(
          v2.getRowCount(),
          v2.getNullCount(),
          v2.getValueCount(),
          BytesInput.from(v2.getRepetitionLevels().toByteBuffer()),
          BytesInput.from(v2.getDefinitionLevels().toByteBuffer()),
          v2.getDataEncoding(),
          BytesInput.from(v2.getData().toByteBuffer()),
          v2.getStatistics());
    }
    return page;
  }

  static DictionaryPage reusable(DictionaryPage page) throws IOException {
    return page == null
        ? null
        : new DictionaryPage(
            BytesInput.from(page.getBytes().toByteBuffer()),
            page.getDictionarySize(),
            page.getEncoding());
  }

  /**
   * Copies the page's floats into {@code into} from {@code offset}, at most {@code room} of them.
   *
   * @return the number copied, or -1 when the page is not in the simple form (nothing copied)
   * @throws IllegalStateException (message without the file) when the page holds more than {@code
   *     room} values
   */
  static int decode(
      DataPage page, int maxRepetition, int maxDefinition, float[] into, int offset, int room)
      throws IOException {
    int entries = page.getValueCount();
    ByteBuffer values;
    if (page instanceof DataPageV1 v1) {
      if (v1.getValueEncoding() != Encoding.PLAIN) {
        return -1;
      }
      ByteBuffer bytes = v1.getBytes().toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      int position = valuesStart(v1, bytes, maxRepetition, maxDefinition);
      if (position < 0) {
        return -1;
      }
      values = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      values.position(position);
    } else if (page instanceof DataPageV2 v2) {
      if (v2.getDataEncoding() != Encoding.PLAIN || v2.isCompressed() || v2.getNullCount() != 0) {
        return -1;
      }
      if (maxDefinition > 0) {
        ByteBuffer levels = v2.getDefinitionLevels().toByteBuffer();
        if (!allAt(
            levels, levels.position(), levels.remaining(), maxDefinition, maxDefinition, entries)) {
          return -1;
        }
      }
      values = v2.getData().toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    } else {
      return -1;
    }
    if (entries > room) {
      throw new IllegalStateException("holds more than the " + room + " values expected");
    }
    if (values.remaining() < entries * 4L) {
      return -1;
    }
    values.asFloatBuffer().get(into, offset, entries);
    return entries;
  }

  /**
   * Where the values of a v1 page start, after its RLE repetition levels and its definition levels,
   * which must all be at their maximum (no null or empty entry); -1 for any other page.
   */
  private static int valuesStart(
      DataPageV1 page, ByteBuffer bytes, int maxRepetition, int maxDefinition) {
    int entries = page.getValueCount();
    int position = bytes.position();
    if (maxRepetition > 0) {
      if (page.getRlEncoding() != Encoding.RLE || bytes.limit() - position < 4) {
        return -1;
      }
      position += 4 + bytes.getInt(position);
    }
    if (maxDefinition > 0) {
      if (page.getDlEncoding() != Encoding.RLE || position < 0 || bytes.limit() - position < 4) {
        return -1;
      }
      int length = bytes.getInt(position);
      if (!allAt(bytes, position + 4, length, maxDefinition, maxDefinition, entries)) {
        return -1;
      }
      position += 4 + length;
    }
    return position < 0 || position > bytes.limit() ? -1 : position;
  }

  /**
   * As {@link #decode}, for a dictionary-encoded page (the default of Arrow and Spark writers for
   * columns with repeated values) whose dictionary of plain floats is {@code dictionary}.
   */
  static int decodeDictionary(
      DataPage page,
      float[] dictionary,
      int maxRepetition,
      int maxDefinition,
      float[] into,
      int offset,
      int room)
      throws IOException {
    if (!(page instanceof DataPageV1 v1) || !v1.getValueEncoding().usesDictionary()) {
      return -1;
    }
    int entries = page.getValueCount();
    ByteBuffer bytes = v1.getBytes().toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    int position = valuesStart(v1, bytes, maxRepetition, maxDefinition);
    if (position < 0 || position >= bytes.limit()) {
      return -1;
    }
    if (entries > room) {
      throw new IllegalStateException("holds more than the " + room + " values expected");
    }
    int width = bytes.get(position) & 0xff;
    if (width > 32) {
      return -1;
    }
    ByteBuffer indices = bytes.duplicate();
    indices.position(position + 1);
    RunLengthBitPackingHybridDecoder decoder =
        new RunLengthBitPackingHybridDecoder(width, ByteBufferInputStream.wrap(indices));
    for (int i = 0; i < entries; i++) {
      int index = decoder.readInt();
      if (index < 0 || index >= dictionary.length) {
        throw new IllegalStateException(
            "refers to dictionary entry " + index + " of " + dictionary.length);
      }
      into[offset + i] = dictionary[index];
    }
    return entries;
  }

  /** The floats of a PLAIN dictionary page, or null for another encoding. */
  static float[] dictionary(DictionaryPage page, long maxEntries) throws IOException {
    if (page.getEncoding() != Encoding.PLAIN && page.getEncoding() != Encoding.PLAIN_DICTIONARY) {
      return null;
    }
    if (page.getDictionarySize() < 0 || page.getDictionarySize() > maxEntries) {
      throw new IllegalStateException(
          "has a dictionary of " + page.getDictionarySize() + " entries, more than " + maxEntries);
    }
    ByteBuffer bytes = page.getBytes().toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.remaining() < page.getDictionarySize() * 4L) {
      return null;
    }
    float[] values = new float[page.getDictionarySize()];
    bytes.asFloatBuffer().get(values);
    return values;
  }

  /**
   * Whether the first {@code entries} levels of an RLE/bit-packed hybrid run (levels of at most
   * {@code maxLevel}) all equal {@code level}; false for anything else, or anything malformed (the
   * general reader then decodes it).
   */
  static boolean allAt(
      ByteBuffer bytes, int start, int length, int level, int maxLevel, int entries) {
    if (start < 0 || length < 0 || start + length > bytes.limit()) {
      return false;
    }
    int bits = 32 - Integer.numberOfLeadingZeros(maxLevel);
    int width = (bits + 7) / 8;
    int position = start;
    int end = start + length;
    long covered = 0;
    while (covered < entries && position < end) {
      int header = 0;
      int shift = 0;
      int b;
      do {
        if (position >= end || shift > 28) {
          return false;
        }
        b = bytes.get(position++) & 0xff;
        header |= (b & 0x7f) << shift;
        shift += 7;
      } while ((b & 0x80) != 0);
      if ((header & 1) != 0) {
        // bit-packed: groups of eight levels, bits * 8 bits (= bits bytes) a group, low bits first
        long groups = header >>> 1;
        if (bits == 0 || groups * bits > end - position) {
          return false;
        }
        long values = Math.min(groups * 8, entries - covered);
        for (int v = 0; v < values; v++) {
          int value = 0;
          for (int k = 0; k < bits; k++) {
            int bit = v * bits + k;
            value |= ((bytes.get(position + (bit >>> 3)) >>> (bit & 7)) & 1) << k;
          }
          if (value != level) {
            return false;
          }
        }
        covered += values;
        position += (int) (groups * bits);
        continue;
      }
      if (position + width > end) {
        return false;
      }
      int value = 0;
      for (int i = 0; i < width; i++) {
        value |= (bytes.get(position++) & 0xff) << (8 * i);
      }
      if (value != level) {
        return false;
      }
      covered += header >>> 1;
    }
    return covered >= entries;
  }
}
