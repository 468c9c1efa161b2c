package fedlake.core.synth;

import fedlake.core.data.Dataset;
import fedlake.core.model.FloatArrays;
import fedlake.schema.ClassStatistics;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What a site that opted in reports about its classes (with an update whenever they differ from the
 * ones the server holds, see {@link #fingerprint}): count, mean and variance of its embeddings per
 * class, with {@link ClassMoments.Spread#COVARIANCE} the full covariance too. Classes with fewer
 * than {@code minimumCount} local examples are left out: with one example the mean is that
 * example's embedding, with two the mean and covariance give both back exactly.
 *
 * @param minimumCount report only classes with at least this many local examples (1: every class)
 */
public record SiteStatistics(ClassMoments.Spread spread, int minimumCount) {
  public static final int MINIMUM_COUNT_DEFAULT = 1;

  public SiteStatistics {
    java.util.Objects.requireNonNull(spread, "spread");
    if (minimumCount < 1) {
      throw new IllegalArgumentException(
          "minimum class count for statistics must be at least 1, got " + minimumCount);
    }
  }

  public static SiteStatistics of(ClassMoments.Spread spread) {
    return new SiteStatistics(spread, MINIMUM_COUNT_DEFAULT);
  }

  /** The records to put into {@code Update.classStatistics}, in class order. */
  public List<ClassStatistics> of(Dataset data, int classCount) {
    return ClassMoments.of(data, classCount, spread).stream()
        .filter(m -> m.count() >= minimumCount)
        .map(ClassMoments::toAvro)
        .toList();
  }

  /**
   * The content fingerprint of a site's statistics: SHA-256, lower-case hex, over the number of
   * records and, for each record in the given order, its class id, count and the IEEE bytes
   * (big-endian) of its mean, variance and covariance, each list preceded by its length (-1 for a
   * missing covariance). Two lists have the same fingerprint exactly when they hold the same
   * floats; the site computes it over what it would upload, the round job over what it received.
   */
  public static String fingerprint(List<ClassStatistics> statistics) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
    ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
    buffer.putInt(statistics.size());
    for (ClassStatistics s : statistics) {
      buffer = room(digest, buffer, 12);
      buffer.putInt(s.getClassId()).putLong(s.getCount());
      buffer = floats(digest, buffer, s.getMean());
      buffer = floats(digest, buffer, s.getVariance());
      buffer = floats(digest, buffer, s.getCovariance());
    }
    digest.update(buffer.array(), 0, buffer.position());
    return HexFormat.of().formatHex(digest.digest());
  }

  private static ByteBuffer floats(MessageDigest digest, ByteBuffer buffer, List<Float> values) {
    buffer = room(digest, buffer, 4);
    if (values == null) {
      return buffer.putInt(-1);
    }
    buffer.putInt(values.size());
    float[] array = FloatArrays.toArray(values);
    for (float v : array) {
      buffer = room(digest, buffer, 4);
      buffer.putInt(Float.floatToRawIntBits(v));
    }
    return buffer;
  }

  private static ByteBuffer room(MessageDigest digest, ByteBuffer buffer, int bytes) {
    if (buffer.remaining() < bytes) {
      digest.update(buffer.array(), 0, buffer.position());
      buffer.clear();
    }
    return buffer;
  }
}
