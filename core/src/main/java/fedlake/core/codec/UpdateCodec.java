package fedlake.core.codec;

import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import fedlake.schema.Update;
import fedlake.schema.UpdateEncoding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Compact encodings of an update's parameters (docs/compression.md). FP16 and INT8 send the change
 * from the base model, not the parameters: a round's change is small next to the parameters, and a
 * half float or a byte spent on the change keeps its precision where the parameters would lose it.
 *
 * <ul>
 *   <li>FP16: each change value as the nearest IEEE half (2 bytes).
 *   <li>INT8: the values in blocks (rows of {@code dimension} values within each part: weights,
 *       bias, cache keys), each block with one float scale {@code max|x| / 127} and a signed byte
 *       per value, rounded stochastically (up with probability equal to the fraction) so that the
 *       encoded change is unbiased: the errors of many sites average out instead of adding up.
 * </ul>
 *
 * The decoded parameters are {@code base + decoded change}, one float addition each; the site signs
 * those, so the server's decode reproduces exactly what was signed.
 */
public final class UpdateCodec {
  private static final int INT8_LEVELS = 127;

  private UpdateCodec() {}

  /** The lower-case name files and the audit use for {@code encoding}. */
  public static String id(UpdateEncoding encoding) {
    return encoding.name().toLowerCase(Locale.ROOT);
  }

  /** The encoding named {@code id} in a file ({@code null} is fp32); null when it names none. */
  public static UpdateEncoding parse(String id) {
    if (id == null) {
      return UpdateEncoding.FP32;
    }
    for (UpdateEncoding e : UpdateEncoding.values()) {
      if (id(e).equals(id)) {
        return e;
      }
    }
    return null;
  }

  /** Bytes one encoded value takes. */
  public static int bytesPerValue(UpdateEncoding encoding) {
    return switch (encoding) {
      case FP32 -> 4;
      case FP16 -> 2;
      case INT8 -> 1;
    };
  }

  /** Number of int8 scales for parts of {@code lengths} blocked by {@code dimension}. */
  public static int blocks(int[] lengths, int dimension) {
    int blocks = 0;
    for (int length : lengths) {
      blocks += (length + dimension - 1) / dimension;
    }
    return blocks;
  }

  /** Bytes an update's parameters (and control delta) take as values, in whichever encoding. */
  public static long parameterBytes(Update u) {
    long floats =
        u.getWeights().size()
            + u.getBias().size()
            + u.getCacheKeys().size()
            + u.getControlDelta().size()
            + (u.getChangeScales() == null ? 0 : u.getChangeScales().size())
            + (u.getControlDeltaScales() == null ? 0 : u.getControlDeltaScales().size());
    return 4 * floats
        + (u.getEncodedChange() == null ? 0 : u.getEncodedChange().remaining())
        + (u.getEncodedControlDelta() == null ? 0 : u.getEncodedControlDelta().remaining());
  }

  /** An encoded vector: its bytes and, for INT8, one scale per block. */
  public record Encoded(byte[] bytes, float[] scales) {}

  /**
   * Encodes {@code values} (laid out in parts of {@code lengths}); {@code seed} drives INT8's
   * stochastic rounding.
   */
  public static Encoded encode(
      UpdateEncoding encoding, float[] values, int[] lengths, int dimension, long seed) {
    switch (encoding) {
      case FP16 -> {
        ByteBuffer out = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
          out.putShort(Half.fromFloat(v));
        }
        return new Encoded(out.array(), new float[0]);
      }
      case INT8 -> {
        byte[] out = new byte[values.length];
        float[] scales = new float[blocks(lengths, dimension)];
        SplittableRandom random = new SplittableRandom(seed);
        int block = 0;
        int start = 0;
        for (int length : lengths) {
          for (int from = start; from < start + length; from += dimension) {
            int to = Math.min(from + dimension, start + length);
            float max = 0;
            for (int i = from; i < to; i++) {
              max = Math.max(max, Math.abs(values[i]));
            }
            float scale = max / INT8_LEVELS;
            scales[block++] = scale;
            for (int i = from; i < to; i++) {
              out[i] = scale == 0 ? 0 : stochastic(values[i] / scale, random);
            }
          }
          start += length;
        }
        return new Encoded(out, scales);
      }
      default -> throw new IllegalArgumentException("fp32 values are not encoded");
    }
  }

  private static byte stochastic(float x, SplittableRandom random) {
    double floor = Math.floor(x);
    double q = floor + (random.nextDouble() < x - floor ? 1 : 0);
    return (byte) Math.max(-INT8_LEVELS, Math.min(INT8_LEVELS, q));
  }

  /**
   * Decodes {@code encoded} into {@code into[0..count)}; returns null, or why the bytes or scales
   * do not fit {@code count} values in parts of {@code lengths}.
   */
  public static String decode(
      UpdateEncoding encoding,
      byte[] bytes,
      float[] scales,
      int[] lengths,
      int dimension,
      float[] into,
      int count) {
    long expected = (long) count * bytesPerValue(encoding);
    if (bytes.length != expected) {
      return String.format(
          Locale.ROOT,
          "holds %d bytes, %s needs %d for %d values",
          bytes.length,
          id(encoding),
          expected,
          count);
    }
    switch (encoding) {
      case FP16 -> {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
          into[i] = Half.toFloat(in.getShort());
        }
        return null;
      }
      case INT8 -> {
        int blocks = blocks(lengths, dimension);
        if (scales.length != blocks) {
          return String.format(
              Locale.ROOT, "has %d scales, %d blocks need one each", scales.length, blocks);
        }
        int block = 0;
        int start = 0;
        for (int length : lengths) {
          for (int from = start; from < start + length; from += dimension) {
            float scale = scales[block];
            if (!(scale >= 0) || Float.isInfinite(scale)) {
              return "scale " + scale + " of block " + block + " is not a finite value >= 0";
            }
            block++;
            int to = Math.min(from + dimension, start + length);
            for (int i = from; i < to; i++) {
              into[i] = bytes[i] * scale;
            }
          }
          start += length;
        }
        return null;
      }
      default -> throw new IllegalArgumentException("fp32 values are not encoded");
    }
  }

  /** The parts of {@code base}'s parameters: weights, bias, cache keys. */
  public static int[] parts(Model base) {
    return new int[] {base.getWeights().size(), base.getBias().size(), base.getCacheKeys().size()};
  }

  /**
   * Encodes a trained update in place for sending: its parameters (and control delta) become what
   * the server will decode, so a signature made next is over exactly those values; {@link
   * Pending#pack} then swaps the arrays for the encoded bytes.
   */
  public static Pending prepare(Update update, Model base, UpdateEncoding encoding, long seed) {
    if (encoding == UpdateEncoding.FP32) {
      return u -> {};
    }
    int[] parts = parts(base);
    int d = base.getDimension();
    float[] origin = Models.parameters(base);
    float[] trained = Models.parameters(update);
    float[] change = new float[trained.length];
    for (int i = 0; i < change.length; i++) {
      change[i] = trained[i] - origin[i];
    }
    Encoded parameters = encode(encoding, change, parts, d, seed);
    decode(encoding, parameters.bytes(), parameters.scales(), parts, d, change, change.length);
    for (int i = 0; i < change.length; i++) {
      change[i] += origin[i];
    }
    setParameters(update, change, parts);
    float[] control = FloatArrays.toArray(update.getControlDelta());
    Encoded controlDelta = null;
    if (control.length > 0) {
      controlDelta = encode(encoding, control, parts, d, ~seed);
      decode(
          encoding, controlDelta.bytes(), controlDelta.scales(), parts, d, control, control.length);
      update.setControlDelta(FloatArrays.asList(control));
    }
    Encoded delta = controlDelta;
    return u -> {
      u.setEncoding(id(encoding));
      u.setEncodedChange(ByteBuffer.wrap(parameters.bytes()));
      u.setChangeScales(
          encoding == UpdateEncoding.INT8 ? FloatArrays.asList(parameters.scales()) : null);
      u.setWeights(java.util.List.of());
      u.setBias(java.util.List.of());
      u.setCacheKeys(java.util.List.of());
      if (delta != null) {
        u.setEncodedControlDelta(ByteBuffer.wrap(delta.bytes()));
        u.setControlDeltaScales(
            encoding == UpdateEncoding.INT8 ? FloatArrays.asList(delta.scales()) : null);
        u.setControlDelta(java.util.List.of());
      }
    };
  }

  /** The last step of {@link #prepare}: puts the encoded form in the update. */
  @FunctionalInterface
  public interface Pending {
    void pack(Update update);
  }

  /**
   * An update record with its parameters decoded from {@code base} (the model it was trained from)
   * and its encoding fields cleared; an fp32 update is returned as it is.
   *
   * @throws IllegalArgumentException when the encoded fields do not fit the base
   */
  public static Update decoded(Update update, Model base) {
    UpdateEncoding encoding = parse(update.getEncoding());
    if (encoding == null) {
      throw new IllegalArgumentException("unknown encoding '" + update.getEncoding() + "'");
    }
    if (encoding == UpdateEncoding.FP32) {
      return update;
    }
    int[] parts = parts(base);
    int d = base.getDimension();
    float[] origin = Models.parameters(base);
    float[] values = new float[origin.length];
    String problem =
        decode(
            encoding,
            bytes(update.getEncodedChange()),
            scales(update.getChangeScales()),
            parts,
            d,
            values,
            values.length);
    if (problem != null) {
      throw new IllegalArgumentException("encodedChange " + problem);
    }
    for (int i = 0; i < values.length; i++) {
      values[i] += origin[i];
    }
    Update copy = Update.newBuilder(update).build();
    setParameters(copy, values, parts);
    if (update.getEncodedControlDelta() != null) {
      float[] control = new float[origin.length];
      problem =
          decode(
              encoding,
              bytes(update.getEncodedControlDelta()),
              scales(update.getControlDeltaScales()),
              parts,
              d,
              control,
              control.length);
      if (problem != null) {
        throw new IllegalArgumentException("encodedControlDelta " + problem);
      }
      copy.setControlDelta(FloatArrays.asList(control));
    }
    copy.setEncoding(null);
    copy.setEncodedChange(null);
    copy.setChangeScales(null);
    copy.setEncodedControlDelta(null);
    copy.setControlDeltaScales(null);
    return copy;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    if (buffer == null) {
      return new byte[0];
    }
    ByteBuffer b = buffer.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static float[] scales(java.util.List<Float> scales) {
    return scales == null ? new float[0] : FloatArrays.toArray(scales);
  }

  private static void setParameters(Update update, float[] values, int[] parts) {
    update.setWeights(FloatArrays.asList(java.util.Arrays.copyOfRange(values, 0, parts[0])));
    update.setBias(
        FloatArrays.asList(java.util.Arrays.copyOfRange(values, parts[0], parts[0] + parts[1])));
    update.setCacheKeys(
        FloatArrays.asList(
            java.util.Arrays.copyOfRange(values, parts[0] + parts[1], values.length)));
  }
}
