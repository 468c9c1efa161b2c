package fedlake.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
  @TempDir Path dir;

  /** A .npy file of format {@code major}.0 with the given header dictionary and body. */
  static byte[] npy(int major, String header, byte[] body) {
    StringBuilder text = new StringBuilder(header);
    int prefix = major == 1 ? 10 : 12;
    while ((prefix + text.length() + 1) % 64 != 0) {
      text.append(' ');
    }
    text.append('\n');
    ByteBuffer head = ByteBuffer.allocate(prefix).order(ByteOrder.LITTLE_ENDIAN);
    head.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'}).put((byte) major).put((byte) 0);
    if (major == 1) {
      head.putShort((short) text.length());
    } else {
      head.putInt(text.length());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(head.array());
    out.writeBytes(text.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(body);
    return out.toByteArray();
  }

  private Path file(String name, byte[] bytes) throws IOException {
    Path file = dir.resolve(name);
    Files.write(file, bytes);
    return file;
  }

  private InvalidInputException failure(Path file) {
    return assertThrows(InvalidInputException.class, () -> Npy.read(file));
  }

  @Test
  void float32MatrixRoundTrip() throws IOException {
    float[] values = {1.5f, -2.25f, 0f, Float.MIN_VALUE, 3.4e38f, -1e-7f};
    Path file = dir.resolve("m.npy");
    Npy.writeFloat32(file, values, 2, 3);
    byte[] bytes = Files.readAllBytes(file);
    assertEquals(
        0,
        (bytes.length - values.length * 4) % 64,
        "header must be padded to a multiple of 64 bytes like numpy does");
    Npy.Array array = Npy.read(file);
    assertArrayEquals(new int[] {2, 3}, array.shape());
    assertEquals(2, array.rows());
    assertEquals(3, array.columns());
    for (int i = 0; i < values.length; i++) {
      assertEquals(values[i], (float) array.values()[i], 0f, "value " + i);
    }
  }

  @Test
  void int32VectorRoundTrip() throws IOException {
    int[] values = {0, 7, -3, Integer.MAX_VALUE, Integer.MIN_VALUE};
    Path file = dir.resolve("v.npy");
    Npy.writeInt32(file, values);
    Npy.Array array = Npy.read(file);
    assertArrayEquals(new int[] {5}, array.shape());
    assertEquals(5, array.rows());
    assertEquals(1, array.columns());
    assertArrayEquals(
        new double[] {0, 7, -3, Integer.MAX_VALUE, Integer.MIN_VALUE}, array.values(), 0.0);
  }

  @Test
  void readsFloat64AndInt64AndFormatVersion2() throws IOException {
    ByteBuffer doubles =
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-2);
    Npy.Array d =
        Npy.read(
            file(
                "d.npy",
                npy(
                    1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }",
                    doubles.array())));
    assertArrayEquals(new double[] {0.1, -2}, d.values(), 0.0);
    ByteBuffer longs =
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(5).putLong(-9);
    Npy.Array l =
        Npy.read(
            file(
                "l.npy",
                npy(
                    2,
                    "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                    longs.array())));
    assertArrayEquals(new int[] {2}, l.shape());
    assertArrayEquals(new double[] {5, -9}, l.values(), 0.0);
  }

  @Test
  void badMagicNumber() throws IOException {
    byte[] bytes = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
    bytes[1] = 'X';
    Path file = file("bad.npy", bytes);
    InvalidInputException e = failure(file);
    assertEquals(file + ": not a .npy file (bad magic number)", e.getMessage());
    assertEquals(file.toString(), e.file());
  }

  @Test
  void shorterThanTheMagicNumber() throws IOException {
    Path file = file("tiny.npy", new byte[] {(byte) 0x93, 'N'});
    assertEquals(
        file + ": not a .npy file (shorter than its magic number)", failure(file).getMessage());
  }

  @Test
  void truncatedBody() throws IOException {
    byte[] full =
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", new byte[48]);
    Path file = file("cut.npy", Arrays.copyOf(full, full.length - 5));
    assertEquals(
        file + ": truncated: header promises 12 values of <f4", failure(file).getMessage());
  }

  @Test
  void truncatedHeader() throws IOException {
    byte[] full =
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", new byte[48]);
    Path file = file("cut-header.npy", Arrays.copyOf(full, 30));
    assertEquals(
        file + ": truncated: the file ends inside its 118-byte header", failure(file).getMessage());
    Path versionOnly = file("cut-version.npy", Arrays.copyOf(full, 7));
    assertEquals(
        versionOnly + ": truncated: the file ends inside its header",
        failure(versionOnly).getMessage());
  }

  @Test
  void unsupportedDtype() throws IOException {
    Path big =
        file(
            "big-endian.npy",
            npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]));
    assertEquals(
        big + ": unsupported dtype '>f4' (expected little-endian float32, float64, int32 or int64)",
        failure(big).getMessage());
    Path half =
        file(
            "half.npy",
            npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", new byte[4]));
    assertEquals(
        half
            + ": unsupported dtype '<f2' (expected little-endian float32, float64, int32 or int64)",
        failure(half).getMessage());
  }

  @Test
  void fortranOrderIsReadRowMajor() throws IOException {
    // [[1, 2, 3], [4, 5, 6]] in column-major order on disk: 1 4 2 5 3 6
    ByteBuffer body = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : new float[] {1, 4, 2, 5, 3, 6}) {
      body.putFloat(v);
    }
    Path file =
        file(
            "fortran.npy",
            npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", body.array()));
    Npy.Array array = Npy.read(file);
    assertArrayEquals(new int[] {2, 3}, array.shape());
    assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, array.values());
  }

  @Test
  void unsupportedFormatVersion() throws IOException {
    byte[] bytes = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
    bytes[6] = 4;
    Path file = file("v4.npy", bytes);
    assertEquals(file + ": unsupported .npy format version 4", failure(file).getMessage());
  }

  @Test
  void threeDimensions() throws IOException {
    Path file =
        file(
            "cube.npy",
            npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }", new byte[32]));
    assertEquals(
        file + ": expected a 1- or 2-dimensional array, found shape (2, 2, 2)",
        failure(file).getMessage());
  }

  @Test
  void headerWithoutShape() throws IOException {
    Path file =
        file("noshape.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, }", new byte[4]));
    assertEquals(file + ": malformed .npy header: no 'shape'", failure(file).getMessage());
  }

  @Test
  void negativeDimension() throws IOException {
    Path file =
        file(
            "negative.npy",
            npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }", new byte[0]));
    assertEquals(
        file + ": malformed .npy shape (-3, 4): negative dimension", failure(file).getMessage());
  }

  @Test
  void shapeTooLargeForOneArray() throws IOException {
    // 600 million float32 values = 2.4 GB: more than one Java array holds
    Path file =
        file(
            "huge.npy",
            npy(
                1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (60000000, 10), }",
                new byte[8]));
    assertEquals(
        file + ": array too large: 600000000 values of <f4 (2400000000 bytes)",
        failure(file).getMessage());
  }
}
