package fedlake.core.synth;

import fedlake.core.data.Dataset;
import fedlake.schema.ClassStatistics;
import java.util.List;

/**
 * What a site that opted in reports about its classes with each update: count, mean and variance of
 * its embeddings per class, with {@link ClassMoments.Spread#COVARIANCE} the full covariance too.
 * Classes with fewer than {@code minimumCount} local examples are left out: with one example the
 * mean is that example's embedding, with two the mean and covariance give both back exactly.
 *
 * @param minimumCount report only classes with at least this many local examples (1: every class)
 */
public record SiteStatistics(ClassMoments.Spread spread, int minimumCount) {
  public static final int MINIMUM_COUNT_DEFAULT = 1;

  public SiteStatistics {
    java.util.Objects.requireNonNull(spread, "spread");
    if (minimumCount < 1) {
      throw new IllegalArgumentException("minimum class count for statistics must be at least 1, got " + minimumCount);
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
}
