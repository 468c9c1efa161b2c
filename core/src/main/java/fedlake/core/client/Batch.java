package fedlake.core.client;

import fedlake.core.data.Dataset;

/**
 * A block of training rows copied out of a {@link Dataset} into one contiguous {@code count x
 * dimension} array with their labels, so the objectives read it with unit stride. Reused from step
 * to step.
 */
public final class Batch {
  private final int dimension;
  private final float[] features;
  private final int[] labels;
  private int count;

  public Batch(int capacity, int dimension) {
    if (capacity <= 0 || dimension <= 0) {
      throw new IllegalArgumentException(
          "A batch needs a positive capacity and dimension, got " + capacity + " x " + dimension);
    }
    this.dimension = dimension;
    this.features = new float[capacity * dimension];
    this.labels = new int[capacity];
  }

  /** Copies rows {@code order[first..first+count)} of {@code data}. */
  public Batch fill(Dataset data, int[] order, int first, int count) {
    if (count <= 0 || count > labels.length) {
      throw new IllegalArgumentException(
          "Batch of capacity " + labels.length + " cannot hold " + count + " rows");
    }
    if (data.dimension() != dimension) {
      throw new IllegalArgumentException(
          "Batch of dimension " + dimension + " cannot hold rows of dimension " + data.dimension());
    }
    float[] x = data.features();
    for (int r = 0; r < count; r++) {
      int row = order[first + r];
      System.arraycopy(x, row * dimension, features, r * dimension, dimension);
      labels[r] = data.label(row);
    }
    this.count = count;
    return this;
  }

  public int count() {
    return count;
  }

  public int dimension() {
    return dimension;
  }

  /** Row-major {@code count x dimension} (the array may be longer); do not modify. */
  public float[] features() {
    return features;
  }

  /** Labels of the first {@code count} rows (the array may be longer). */
  public int[] labels() {
    return labels;
  }
}
