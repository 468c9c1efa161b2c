package fedlake.core.synth;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Samples each class from the Gaussian of its pooled site statistics ({@link ClassGaussian}).
 * Covers the classes some site reported; the others have no source.
 */
public final class GaussianSource implements SyntheticSource {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "site-stats";

  private final int classCount;
  private final int dimension;
  private final TreeMap<Integer, ClassMoments> pooled;
  private final double shrinkage;
  private final Map<String, String> parameters;

  /**
   * @param pooled pooled statistics by class id (classes in [0, classCount))
   * @param parameters where the statistics came from, for the provenance
   */
  public GaussianSource(
      int classCount,
      int dimension,
      Map<Integer, ClassMoments> pooled,
      double shrinkage,
      Map<String, String> parameters) {
    this.classCount = classCount;
    this.dimension = dimension;
    this.pooled = new TreeMap<>(pooled);
    this.shrinkage = shrinkage;
    for (ClassMoments m : pooled.values()) {
      if (m.classId() < 0 || m.classId() >= classCount) {
        throw new IllegalArgumentException(
            "statistics of class " + m.classId() + " outside 0.." + (classCount - 1));
      }
      if (m.dimension() != dimension) {
        throw new IllegalArgumentException(
            "statistics of class "
                + m.classId()
                + " have dimension "
                + m.dimension()
                + ", expected "
                + dimension);
      }
    }
    this.parameters = new LinkedHashMap<>(parameters);
    this.parameters.put(
        "covariance",
        pooled.values().stream().allMatch(ClassMoments::hasCovariance) ? "full" : "diagonal");
    this.parameters.put("shrinkage", String.format(Locale.ROOT, "%s", shrinkage));
    this.parameters.put(
        "sites-examples",
        Long.toString(pooled.values().stream().mapToLong(ClassMoments::count).sum()));
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int dimension() {
    return dimension;
  }

  @Override
  public int classCount() {
    return classCount;
  }

  @Override
  public boolean covers(int classId) {
    return pooled.containsKey(classId);
  }

  @Override
  public ClassEmbeddings embeddings(int classId, int count, SplittableRandom random) {
    ClassMoments moments = pooled.get(classId);
    if (moments == null) {
      throw new IllegalArgumentException("no statistics for class " + classId);
    }
    // factored per call: a table asks for each class once, and a factor is dimension^2 doubles
    return new ClassEmbeddings(
        classId, dimension, new ClassGaussian(moments, shrinkage).sample(count, random));
  }

  @Override
  public Map<String, String> parameters() {
    return parameters;
  }
}
