package fedlake.core.columnar;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** {@link PlainFloats#allAt} on hand-encoded RLE/bit-packed hybrid runs of definition levels. */
class LevelRunsTest {
  private static boolean allAt(int level, int max, int entries, int... bytes) {
    byte[] b = new byte[bytes.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) bytes[i];
    }
    return PlainFloats.allAt(ByteBuffer.wrap(b), 0, b.length, level, max, entries);
  }

  @Test
  void rleRuns() {
    // header 2 = an RLE run of one level, the level in one byte
    assertTrue(allAt(0, 1, 1, 0x02, 0x00));
    assertFalse(allAt(1, 1, 1, 0x02, 0x00));
    assertTrue(allAt(1, 1, 1, 0x02, 0x01));
    // 200 levels of 3 (max 3): header 400 as a varint
    assertTrue(allAt(3, 3, 200, 0x90, 0x03, 0x03));
    assertFalse(allAt(3, 3, 201, 0x90, 0x03, 0x03));
  }

  @Test
  void bitPackedRuns() {
    // a single null as parquet-java writes it: one bit-packed group (header 3), its byte 0
    assertTrue(allAt(0, 1, 1, 0x03, 0x00));
    assertFalse(allAt(1, 1, 1, 0x03, 0x00));
    assertTrue(allAt(1, 1, 1, 0x03, 0x01));
    // nine levels of 1: two groups (header 5), 0xff then one more set bit
    assertTrue(allAt(1, 1, 9, 0x05, 0xff, 0x01));
    assertFalse(allAt(1, 1, 10, 0x05, 0xff, 0x01));
    // three levels of 3 in two bits each: 0b00_11_11_11 then padding
    assertTrue(allAt(3, 3, 3, 0x03, 0x3f, 0x00));
    assertFalse(allAt(3, 3, 4, 0x03, 0x3f, 0x00));
    assertFalse(allAt(2, 3, 1, 0x03, 0x3f, 0x00));
    // a group that runs past the bytes
    assertFalse(allAt(0, 1, 1, 0x05, 0x00));
  }
}
