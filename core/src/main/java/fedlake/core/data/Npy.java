package fedlake.core.data;

import fedlake.core.InvalidInputException;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1-3, little-endian; C or Fortran order
 * on read, always returned row-major) holding float32/float64/int32/int64 arrays of one or two
 * dimensions.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

  /** A numeric array read from a {@code .npy} file; values widened to double. */
  public record Array(int[] shape, double[] values) {
    public int rows() {
      return shape.length == 0 ? 1 : shape[0];
    }

    public int columns() {
      return shape.length < 2 ? 1 : shape[1];
    }
  }

  private Npy() {}

  public static Array read(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString());
    } catch (IOException e) {
      throw new InvalidInputException(
          file.toString(), "cannot read .npy file: " + e.getMessage(), e);
    }
  }

  public static Array read(InputStream raw, String name) throws IOException {
    DataInputStream in = new DataInputStream(raw);
    byte[] magic = new byte[6];
    try {
      in.readFully(magic);
    } catch (EOFException e) {
      throw new InvalidInputException(name, "not a .npy file (shorter than its magic number)");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (magic[i] != MAGIC[i]) {
        throw new InvalidInputException(name, "not a .npy file (bad magic number)");
      }
    }
    int major;
    int headerLength = -1;
    byte[] headerBytes;
    try {
      major = in.readUnsignedByte();
      in.readUnsignedByte();
      if (major == 1) {
        headerLength = Short.toUnsignedInt(Short.reverseBytes(in.readShort()));
      } else if (major == 2 || major == 3) {
        headerLength = Integer.reverseBytes(in.readInt());
      } else {
        throw new InvalidInputException(name, "unsupported .npy format version " + major);
      }
      if (headerLength < 0) {
        throw new InvalidInputException(
            name, "malformed .npy header length " + Integer.toUnsignedString(headerLength));
      }
      headerBytes = new byte[headerLength];
      in.readFully(headerBytes);
    } catch (EOFException e) {
      throw new InvalidInputException(
          name,
          headerLength < 0
              ? "truncated: the file ends inside its header"
              : "truncated: the file ends inside its " + headerLength + "-byte header");
    }
    String header = new String(headerBytes, StandardCharsets.ISO_8859_1);
    String descr = group(DESCR, header, name, "descr");
    boolean fortran = "True".equals(group(FORTRAN, header, name, "fortran_order"));
    int[] shape = parseShape(group(SHAPE, header, name, "shape"), name);
    int width;
    switch (descr) {
      case "<f4", "<i4", "|i4" -> width = 4;
      case "<f8", "<i8", "|i8" -> width = 8;
      default ->
          throw new InvalidInputException(
              name,
              "unsupported dtype '"
                  + descr
                  + "' (expected little-endian float32, float64, int32 or int64)");
    }
    long count = 1;
    for (int d : shape) {
      count *= d;
    }
    if (count > (Integer.MAX_VALUE - 8) / width) {
      throw new InvalidInputException(
          name,
          "array too large: "
              + count
              + " values of "
              + descr
              + " ("
              + java.math.BigInteger.valueOf(count).multiply(java.math.BigInteger.valueOf(width))
              + " bytes)");
    }
    byte[] data = new byte[(int) count * width];
    try {
      in.readFully(data);
    } catch (EOFException e) {
      throw new InvalidInputException(
          name, "truncated: header promises " + count + " values of " + descr);
    }
    ByteBuffer buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    double[] values = new double[(int) count];
    for (int i = 0; i < values.length; i++) {
      values[i] =
          switch (descr) {
            case "<f4" -> buffer.getFloat();
            case "<f8" -> buffer.getDouble();
            case "<i4", "|i4" -> buffer.getInt();
            default -> buffer.getLong();
          };
    }
    if (fortran && shape.length == 2) { // column-major on disk: transpose into row-major
      int rows = shape[0];
      int columns = shape[1];
      double[] rowMajor = new double[values.length];
      for (int c = 0; c < columns; c++) {
        for (int r = 0; r < rows; r++) {
          rowMajor[r * columns + c] = values[c * rows + r];
        }
      }
      values = rowMajor;
    }
    return new Array(shape, values);
  }

  private static String group(Pattern pattern, String header, String name, String key) {
    Matcher m = pattern.matcher(header);
    if (!m.find()) {
      throw new InvalidInputException(name, "malformed .npy header: no '" + key + "'");
    }
    return m.group(1);
  }

  private static int[] parseShape(String text, String name) {
    String[] parts = text.split(",");
    int n = 0;
    int[] shape = new int[parts.length];
    for (String part : parts) {
      String p = part.trim();
      if (!p.isEmpty()) {
        try {
          shape[n++] = Integer.parseInt(p);
        } catch (NumberFormatException e) {
          throw new InvalidInputException(name, "malformed .npy shape (" + text + ")");
        }
        if (shape[n - 1] < 0) {
          throw new InvalidInputException(
              name, "malformed .npy shape (" + text + "): negative dimension");
        }
      }
    }
    if (n > 2) {
      throw new InvalidInputException(
          name, "expected a 1- or 2-dimensional array, found shape (" + text + ")");
    }
    return java.util.Arrays.copyOf(shape, n);
  }

  /** Writes a row-major float32 matrix. */
  public static void writeFloat32(Path file, float[] values, int rows, int columns)
      throws IOException {
    ByteBuffer body = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      body.putFloat(v);
    }
    write(file, "<f4", "(" + rows + ", " + columns + ")", body.array());
  }

  /** Writes a vector of int32. */
  public static void writeInt32(Path file, int[] values) throws IOException {
    ByteBuffer body = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      body.putInt(v);
    }
    write(file, "<i4", "(" + values.length + ",)", body.array());
  }

  private static void write(Path file, String descr, String shape, byte[] body) throws IOException {
    StringBuilder header =
        new StringBuilder(
            "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }");
    while ((10 + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    ByteBuffer head = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    head.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    try (var out = Files.newOutputStream(file)) {
      out.write(head.array());
      out.write(header.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(body);
    }
  }
}
