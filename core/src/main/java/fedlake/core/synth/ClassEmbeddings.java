package fedlake.core.synth;

/**
 * Embeddings of one class to write into a synthetic table: {@code rows()} unit-length vectors,
 * row-major {@code rows x dimension}. What every {@link SyntheticSource} produces.
 */
public record ClassEmbeddings(int classId, int dimension, float[] values)
    implements java.io.Serializable {
  public ClassEmbeddings {
    if (dimension <= 0 || values.length % dimension != 0) {
      throw new IllegalArgumentException(
          "class " + classId + ": " + values.length + " values do not form rows of " + dimension);
    }
  }

  public int rows() {
    return values.length / dimension;
  }

  /** A copy of row {@code index}. */
  public float[] row(int index) {
    return java.util.Arrays.copyOfRange(values, index * dimension, (index + 1) * dimension);
  }
}
