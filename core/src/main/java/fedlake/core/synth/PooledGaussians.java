package fedlake.core.synth;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * The expensive part of CCVR, kept across rounds: the factored Gaussian of every pooled class (mean
 * and Cholesky factor, or mean and deviations) under a key that names what was pooled (the sorted
 * (site, statistics fingerprint) list, the dimension and the shrinkage; see {@code
 * CalibrationStatistics.key}). Written and read back bit for bit, so a round that reuses it samples
 * exactly what a round that pools and factors again would.
 */
public final class PooledGaussians {
  private static final long MAGIC = 0x464C474155535331L; // "FLGAUSS1"

  private final String key;
  private final int dimension;
  private final TreeMap<Integer, ClassGaussian> classes;

  PooledGaussians(String key, int dimension, Map<Integer, ClassGaussian> classes) {
    this.key = key;
    this.dimension = dimension;
    this.classes = new TreeMap<>(classes);
  }

  /**
   * Factors every pooled class (classes in parallel; each factor is computed the same way whatever
   * the thread).
   */
  public static PooledGaussians factor(
      String key, int dimension, Map<Integer, ClassMoments> pooled, double shrinkage) {
    Integer[] ids = pooled.keySet().toArray(new Integer[0]);
    ClassGaussian[] factored = new ClassGaussian[ids.length];
    IntStream.range(0, ids.length)
        .parallel()
        .forEach(i -> factored[i] = new ClassGaussian(pooled.get(ids[i]), shrinkage));
    TreeMap<Integer, ClassGaussian> classes = new TreeMap<>();
    for (int i = 0; i < ids.length; i++) {
      if (factored[i].dimension() != dimension) {
        throw new IllegalArgumentException(
            "statistics of class "
                + ids[i]
                + " have dimension "
                + factored[i].dimension()
                + ", expected "
                + dimension);
      }
      classes.put(ids[i], factored[i]);
    }
    return new PooledGaussians(key, dimension, classes);
  }

  public String key() {
    return key;
  }

  public int dimension() {
    return dimension;
  }

  /** The factored Gaussians by class id; do not modify. */
  public Map<Integer, ClassGaussian> classes() {
    return Collections.unmodifiableMap(classes);
  }

  /** "full" when every class has a covariance factor, else "diagonal". */
  public String covariance() {
    return classes.values().stream().allMatch(ClassGaussian::hasFactor) ? "full" : "diagonal";
  }

  /** Writes the key and every class's doubles (big-endian IEEE bytes). */
  public void write(OutputStream stream) throws IOException {
    DataOutputStream out = new DataOutputStream(stream);
    out.writeLong(MAGIC);
    out.writeUTF(key);
    out.writeInt(dimension);
    out.writeInt(classes.size());
    for (Map.Entry<Integer, ClassGaussian> e : classes.entrySet()) {
      ClassGaussian g = e.getValue();
      out.writeInt(e.getKey());
      out.writeLong(g.count());
      out.writeBoolean(g.hasFactor());
      doubles(out, g.mean());
      doubles(out, g.hasFactor() ? g.factor() : g.deviation());
    }
    out.flush();
  }

  /**
   * Reads what {@link #write} wrote; null when it holds another key (nothing decoded beyond the
   * key).
   */
  public static PooledGaussians read(InputStream stream, String expectedKey) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    if (in.readLong() != MAGIC) {
      throw new IOException("not a fedlake Gaussian cache file");
    }
    String key = in.readUTF();
    if (!key.equals(expectedKey)) {
      return null;
    }
    int dimension = in.readInt();
    int size = in.readInt();
    if (dimension <= 0 || size < 0) {
      throw new IOException(
          "bad Gaussian cache header: dimension " + dimension + ", " + size + " classes");
    }
    TreeMap<Integer, ClassGaussian> classes = new TreeMap<>();
    for (int c = 0; c < size; c++) {
      int id = in.readInt();
      long count = in.readLong();
      boolean full = in.readBoolean();
      double[] mean = doubles(in, dimension);
      double[] spread = doubles(in, full ? dimension * (dimension + 1) / 2 : dimension);
      classes.put(
          id,
          full
              ? new ClassGaussian(count, mean, null, spread)
              : new ClassGaussian(count, mean, spread, null));
    }
    return new PooledGaussians(key, dimension, classes);
  }

  private static void doubles(DataOutputStream out, double[] values) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(8 * Math.min(values.length, 1 << 16));
    for (int from = 0; from < values.length; from += buffer.capacity() / 8) {
      int n = Math.min(buffer.capacity() / 8, values.length - from);
      buffer.clear();
      buffer.asDoubleBuffer().put(values, from, n);
      out.write(buffer.array(), 0, 8 * n);
    }
  }

  private static double[] doubles(DataInputStream in, int length) throws IOException {
    double[] values = new double[length];
    byte[] bytes = new byte[8 * Math.min(length, 1 << 16)];
    for (int from = 0; from < length; from += bytes.length / 8) {
      int n = Math.min(bytes.length / 8, length - from);
      try {
        in.readFully(bytes, 0, 8 * n);
      } catch (EOFException e) {
        throw new IOException("Gaussian cache file ends early", e);
      }
      ByteBuffer.wrap(bytes, 0, 8 * n).asDoubleBuffer().get(values, from, n);
    }
    return values;
  }
}
