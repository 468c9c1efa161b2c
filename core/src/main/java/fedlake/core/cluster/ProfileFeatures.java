package fedlake.core.cluster;

import fedlake.schema.SiteProfile;
import java.io.Serializable;
import java.util.List;

/**
 * Turns a profile into the vector the cluster job clusters: {@code [h * sqrt(histogram),
 * d * direction, e * embeddingMean]}. The square root makes the histogram block a unit vector whose
 * Euclidean distances are Hellinger distances; the other blocks are unit vectors already, so the
 * weights say how much each block counts. The embedding block is used only when every profile of
 * the round has one.
 */
public record ProfileFeatures(double histogramWeight, double directionWeight, double embeddingWeight,
    boolean useEmbedding) implements Serializable {
  public static final double HISTOGRAM_WEIGHT_DEFAULT = 1.0;
  public static final double DIRECTION_WEIGHT_DEFAULT = 1.0;
  public static final double EMBEDDING_WEIGHT_DEFAULT = 1.0;

  public ProfileFeatures {
    for (double w : new double[] {histogramWeight, directionWeight, embeddingWeight}) {
      if (!(w >= 0) || !Double.isFinite(w)) {
        throw new IllegalArgumentException("profile weights must be finite and >= 0, got " + w);
      }
    }
    if (histogramWeight + directionWeight + (useEmbedding ? embeddingWeight : 0) == 0) {
      throw new IllegalArgumentException("at least one profile weight must be positive");
    }
  }

  public static ProfileFeatures defaults(boolean useEmbedding) {
    return new ProfileFeatures(HISTOGRAM_WEIGHT_DEFAULT, DIRECTION_WEIGHT_DEFAULT, EMBEDDING_WEIGHT_DEFAULT, useEmbedding);
  }

  /** Parses "h,d,e" (histogram, direction, embedding weights). */
  public static ProfileFeatures parse(String text, boolean useEmbedding) {
    String[] parts = text.split(",");
    if (parts.length != 3) {
      throw new IllegalArgumentException("--weights expects three numbers 'histogram,direction,embedding', got '" + text + "'");
    }
    try {
      return new ProfileFeatures(Double.parseDouble(parts[0].trim()), Double.parseDouble(parts[1].trim()),
          Double.parseDouble(parts[2].trim()), useEmbedding);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--weights expects three numbers 'histogram,direction,embedding', got '" + text + "'");
    }
  }

  public ProfileFeatures withEmbedding(boolean value) {
    return new ProfileFeatures(histogramWeight, directionWeight, embeddingWeight, value);
  }

  /**
   * Why a profile cannot be clustered (non-finite or negative values, lengths that differ from the
   * round's), or null when it can.
   */
  public static String problem(SiteProfile p, int classCount, int projectionDimension) {
    String where = "site " + p.getSite() + ": ";
    if (p.getLabelHistogram().size() != classCount) {
      return where + "labelHistogram has " + p.getLabelHistogram().size() + " values, other profiles have " + classCount;
    }
    if (p.getDirection().size() != projectionDimension) {
      return where + "direction has " + p.getDirection().size() + " values, other profiles have " + projectionDimension;
    }
    if (p.getEmbeddingMean() != null && p.getEmbeddingMean().size() != projectionDimension) {
      return where + "embeddingMean has " + p.getEmbeddingMean().size() + " values, direction has " + projectionDimension;
    }
    String bad = nonFinite("labelHistogram", p.getLabelHistogram());
    if (bad == null) {
      bad = nonFinite("direction", p.getDirection());
    }
    if (bad == null && p.getEmbeddingMean() != null) {
      bad = nonFinite("embeddingMean", p.getEmbeddingMean());
    }
    if (bad != null) {
      return where + bad;
    }
    for (int c = 0; c < classCount; c++) {
      if (p.getLabelHistogram().get(c) < 0) {
        return where + "labelHistogram has a negative share " + p.getLabelHistogram().get(c) + " for class " + c;
      }
    }
    return null;
  }

  private static String nonFinite(String field, List<Float> values) {
    for (int i = 0; i < values.size(); i++) {
      Float v = values.get(i);
      if (v == null || !Float.isFinite(v)) {
        return "non-finite value " + v + " in " + field + " at position " + i;
      }
    }
    return null;
  }

  public int length(int classCount, int projectionDimension) {
    return classCount + projectionDimension + (useEmbedding ? projectionDimension : 0);
  }

  /** The feature vector of a profile that passed {@link #problem}. */
  public double[] vector(SiteProfile p) {
    List<Float> histogram = p.getLabelHistogram();
    List<Float> direction = p.getDirection();
    int classes = histogram.size();
    int projected = direction.size();
    double[] v = new double[length(classes, projected)];
    for (int c = 0; c < classes; c++) {
      v[c] = histogramWeight * Math.sqrt(histogram.get(c));
    }
    for (int k = 0; k < projected; k++) {
      v[classes + k] = directionWeight * direction.get(k);
    }
    if (useEmbedding) {
      List<Float> embedding = p.getEmbeddingMean();
      for (int k = 0; k < projected; k++) {
        v[classes + projected + k] = embeddingWeight * embedding.get(k);
      }
    }
    return v;
  }
}
