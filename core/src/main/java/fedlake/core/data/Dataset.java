package fedlake.core.data;

import fedlake.core.InvalidInputException;
import java.util.Arrays;

/**
 * Embedded examples held in memory: a row-major {@code size x dimension} matrix of L2-normalised
 * embeddings and one label per row ({@link #UNLABELLED} when unknown).
 */
public final class Dataset {
  public static final int UNLABELLED = -1;

  private final String source;
  private final String labelSource;
  private final int dimension;
  private final float[] features;
  private final int[] labels;

  /**
   * Checks every value and L2-normalises every row. Rejects non-finite values, rows of zero norm
   * and negative labels, naming {@code source} and the row.
   */
  public static Dataset of(String source, float[] features, int[] labels, int dimension) {
    return of(source, source, features, labels, dimension);
  }

  /**
   * As {@link #of(String, float[], int[], int)} with labels read from another file, named in label
   * errors.
   */
  public static Dataset of(
      String source, String labelSource, float[] features, int[] labels, int dimension) {
    if (dimension <= 0) {
      throw new InvalidInputException(
          source, "embedding dimension must be positive, got " + dimension);
    }
    if (features.length != (long) labels.length * dimension) {
      throw new InvalidInputException(
          source,
          "embeddings have "
              + features.length / dimension
              + " rows but there are "
              + labels.length
              + " labels");
    }
    float[] normalised = features.clone();
    for (int row = 0; row < labels.length; row++) {
      double squares = 0;
      int offset = row * dimension;
      for (int j = 0; j < dimension; j++) {
        float v = normalised[offset + j];
        if (!Float.isFinite(v)) {
          throw new InvalidInputException(
              source, "row " + row + " has a non-finite value (" + v + ") at position " + j);
        }
        squares += (double) v * v;
      }
      if (squares == 0) {
        throw new InvalidInputException(
            source, "row " + row + " is all zeros and cannot be normalised");
      }
      float scale = (float) (1 / Math.sqrt(squares));
      for (int j = 0; j < dimension; j++) {
        normalised[offset + j] *= scale;
      }
      if (labels[row] < UNLABELLED) {
        throw new InvalidInputException(
            labelSource, "row " + row + " has a negative label " + labels[row]);
      }
    }
    return new Dataset(source, labelSource, dimension, normalised, labels.clone());
  }

  private Dataset(
      String source, String labelSource, int dimension, float[] features, int[] labels) {
    this.source = source;
    this.labelSource = labelSource;
    this.dimension = dimension;
    this.features = features;
    this.labels = labels;
  }

  public String source() {
    return source;
  }

  /** Where the labels came from: {@link #source()} unless they were read from a separate file. */
  public String labelSource() {
    return labelSource;
  }

  public int dimension() {
    return dimension;
  }

  public int size() {
    return labels.length;
  }

  /** Row-major normalised embeddings; do not modify. */
  public float[] features() {
    return features;
  }

  /** Labels, {@link #UNLABELLED} where unknown; do not modify. */
  public int[] labels() {
    return labels;
  }

  public int label(int row) {
    return labels[row];
  }

  /** Largest label + 1 (0 when nothing is labelled). */
  public int classBound() {
    int max = -1;
    for (int label : labels) {
      max = Math.max(max, label);
    }
    return max + 1;
  }

  /** Number of labelled rows per class, for classes [0, classCount). */
  public long[] labelHistogram(int classCount) {
    long[] histogram = new long[classCount];
    for (int label : labels) {
      if (label >= 0 && label < classCount) {
        histogram[label]++;
      }
    }
    return histogram;
  }

  /** A dataset of the given rows, in the given order. */
  public Dataset select(int[] rows) {
    float[] f = new float[rows.length * dimension];
    int[] l = new int[rows.length];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(features, rows[i] * dimension, f, i * dimension, dimension);
      l[i] = labels[rows[i]];
    }
    return new Dataset(source, labelSource, dimension, f, l);
  }

  /**
   * The same rows and labels with other features of the same shape, taken as they are (not
   * normalised): inputs moved to other coordinates, such as centred ones (privacy.centre).
   */
  public Dataset withFeatures(float[] moved) {
    if (moved.length != features.length) {
      throw new IllegalArgumentException(
          "features of " + moved.length + " values for " + features.length);
    }
    return new Dataset(source, labelSource, dimension, moved, labels);
  }

  /** Rejects labels outside [0, classCount) and unlabelled rows when training needs labels. */
  public void requireLabelsBelow(int classCount) {
    for (int row = 0; row < labels.length; row++) {
      if (labels[row] == UNLABELLED) {
        throw new InvalidInputException(
            labelSource, "row " + row + " has no label; local training needs labelled rows");
      }
      if (labels[row] >= classCount) {
        throw new InvalidInputException(
            labelSource,
            "row "
                + row
                + " has label "
                + labels[row]
                + " but the model has "
                + classCount
                + " classes (0.."
                + (classCount - 1)
                + ")");
      }
    }
  }

  @Override
  public String toString() {
    return "Dataset["
        + source
        + ", "
        + size()
        + " rows x "
        + dimension
        + ", labels "
        + Arrays.stream(labels).distinct().count()
        + " distinct]";
  }
}
