package fedlake.core.cluster;

import fedlake.schema.SiteProfile;
import java.io.Serializable;
import java.util.List;

/**
 * Turns a profile into the vector the cluster job clusters: {@code [h * sqrt(histogram), d *
 * direction, p * position, e * embeddingMean, c * centroid]}. The square root makes the histogram
 * block a unit vector whose Euclidean distances are Hellinger distances; the other blocks are unit
 * vectors already, so the weights say how much each block counts. The position, embedding and
 * centroid blocks are used only when every profile of the round has one.
 */
public record ProfileFeatures(
    double histogramWeight,
    double directionWeight,
    double positionWeight,
    double embeddingWeight,
    double centroidWeight,
    boolean usePosition,
    boolean useEmbedding,
    boolean useCentroid)
    implements Serializable {
  /**
   * The centroid counts twice: in a shared label space the histogram and the direction of sites of
   * one dataset differ about as much as those of two datasets (they mostly say which labels a site
   * holds), the centroid does not (docs/clustering.md).
   */
  public static final double CENTROID_WEIGHT_DEFAULT = 2;

  public static final String WEIGHTS_DEFAULT = "1,1,1,1,2";

  public ProfileFeatures {
    for (double w :
        new double[] {
          histogramWeight, directionWeight, positionWeight, embeddingWeight, centroidWeight
        }) {
      if (!(w >= 0) || !Double.isFinite(w)) {
        throw new IllegalArgumentException("profile weights must be finite and >= 0, got " + w);
      }
    }
    if (histogramWeight + directionWeight + positionWeight + embeddingWeight + centroidWeight
        == 0) {
      throw new IllegalArgumentException("at least one profile weight must be positive");
    }
  }

  public static ProfileFeatures defaults() {
    return parse(WEIGHTS_DEFAULT);
  }

  /**
   * Parses "h,d,p,e[,c]" (histogram, direction, position, embedding and centroid weights; the
   * centroid's defaults to {@link #CENTROID_WEIGHT_DEFAULT}); the blocks are switched on per round.
   */
  public static ProfileFeatures parse(String text) {
    String[] parts = text.split(",", -1);
    String usage =
        "--weights expects four or five numbers 'histogram,direction,position,embedding[,centroid]',"
            + " got '"
            + text
            + "'";
    if (parts.length != 4 && parts.length != 5) {
      throw new IllegalArgumentException(usage);
    }
    try {
      return new ProfileFeatures(
          Double.parseDouble(parts[0].trim()),
          Double.parseDouble(parts[1].trim()),
          Double.parseDouble(parts[2].trim()),
          Double.parseDouble(parts[3].trim()),
          parts.length == 5 ? Double.parseDouble(parts[4].trim()) : CENTROID_WEIGHT_DEFAULT,
          true,
          true,
          true);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(usage);
    }
  }

  /** These weights with the optional blocks switched on only where weighted and present. */
  public ProfileFeatures withBlocks(boolean position, boolean embedding, boolean centroid) {
    return new ProfileFeatures(
        histogramWeight,
        directionWeight,
        positionWeight,
        embeddingWeight,
        centroidWeight,
        position && positionWeight > 0,
        embedding && embeddingWeight > 0,
        centroid && centroidWeight > 0);
  }

  /**
   * Why a profile cannot be clustered (non-finite or negative values, lengths that differ from the
   * round's), or null when it can.
   */
  public static String problem(SiteProfile p, int classCount, int projectionDimension) {
    String where = "site " + p.getSite() + ": ";
    if (p.getLabelHistogram().size() != classCount) {
      return where
          + "labelHistogram has "
          + p.getLabelHistogram().size()
          + " values, other profiles have "
          + classCount;
    }
    if (p.getDirection().size() != projectionDimension) {
      return where
          + "direction has "
          + p.getDirection().size()
          + " values, other profiles have "
          + projectionDimension;
    }
    if (p.getPosition() != null
        && !p.getPosition().isEmpty()
        && p.getPosition().size() != projectionDimension) {
      return where
          + "position has "
          + p.getPosition().size()
          + " values, direction has "
          + projectionDimension;
    }
    if (p.getEmbeddingMean() != null && p.getEmbeddingMean().size() != projectionDimension) {
      return where
          + "embeddingMean has "
          + p.getEmbeddingMean().size()
          + " values, direction has "
          + projectionDimension;
    }
    if (p.getCentroid() != null && p.getCentroid().size() != projectionDimension) {
      return where
          + "centroid has "
          + p.getCentroid().size()
          + " values, direction has "
          + projectionDimension;
    }
    String bad = nonFinite("labelHistogram", p.getLabelHistogram());
    if (bad == null) {
      bad = nonFinite("direction", p.getDirection());
    }
    if (bad == null && p.getPosition() != null) {
      bad = nonFinite("position", p.getPosition());
    }
    if (bad == null && p.getEmbeddingMean() != null) {
      bad = nonFinite("embeddingMean", p.getEmbeddingMean());
    }
    if (bad == null && p.getCentroid() != null) {
      bad = nonFinite("centroid", p.getCentroid());
    }
    if (bad != null) {
      return where + bad;
    }
    for (int c = 0; c < classCount; c++) {
      if (p.getLabelHistogram().get(c) < 0) {
        return where
            + "labelHistogram has a negative share "
            + p.getLabelHistogram().get(c)
            + " for class "
            + c;
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
    return classCount
        + projectionDimension
        + (usePosition ? projectionDimension : 0)
        + (useEmbedding ? projectionDimension : 0)
        + (useCentroid ? projectionDimension : 0);
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
    int offset = classes;
    for (int k = 0; k < projected; k++) {
      v[offset + k] = directionWeight * direction.get(k);
    }
    offset += projected;
    if (usePosition) {
      List<Float> position = p.getPosition();
      for (int k = 0; k < projected; k++) {
        v[offset + k] = positionWeight * position.get(k);
      }
      offset += projected;
    }
    if (useEmbedding) {
      List<Float> embedding = p.getEmbeddingMean();
      for (int k = 0; k < projected; k++) {
        v[offset + k] = embeddingWeight * embedding.get(k);
      }
      offset += projected;
    }
    if (useCentroid) {
      List<Float> centroid = p.getCentroid();
      for (int k = 0; k < projected; k++) {
        v[offset + k] = centroidWeight * centroid.get(k);
      }
    }
    return v;
  }
}
