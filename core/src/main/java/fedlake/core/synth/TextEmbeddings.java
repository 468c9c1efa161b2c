package fedlake.core.synth;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Npy;
import fedlake.core.model.FloatArrays;
import fedlake.core.store.ParquetFiles;
import fedlake.schema.DatasetRow;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.List;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * One unit-length text embedding per class (for CLIP: the class name in prompt templates, through
 * the text encoder), row {@code c} for class {@code c}. Read from a 2-dimensional {@code .npy} file
 * (classes x dimension) or from Parquet in the {@code DatasetRow} schema with {@code label} = class
 * id, where several rows of a class (prompt variants) are averaged.
 */
public final class TextEmbeddings implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String source;
  private final int classCount;
  private final int dimension;
  private final float[] values;

  private TextEmbeddings(String source, int classCount, int dimension, float[] values) {
    this.source = source;
    this.classCount = classCount;
    this.dimension = dimension;
    this.values = values;
  }

  /**
   * Checks and L2-normalises {@code classCount x dimension} row-major values read from {@code
   * source}.
   */
  public static TextEmbeddings of(String source, float[] values, int classCount, int dimension) {
    if (classCount <= 0 || dimension <= 0 || values.length != (long) classCount * dimension) {
      throw new InvalidInputException(
          source,
          "text embeddings must be a non-empty classes x dimension array, got "
              + values.length
              + " values for "
              + classCount
              + " x "
              + dimension);
    }
    float[] normalised = values.clone();
    for (int c = 0; c < classCount; c++) {
      double squares = 0;
      for (int j = 0; j < dimension; j++) {
        float v = normalised[c * dimension + j];
        if (!Float.isFinite(v)) {
          throw new InvalidInputException(
              source,
              "text embedding of class "
                  + c
                  + " has a non-finite value ("
                  + v
                  + ") at position "
                  + j);
        }
        squares += (double) v * v;
      }
      if (squares == 0) {
        throw new InvalidInputException(source, "text embedding of class " + c + " is all zeros");
      }
      double scale = 1 / Math.sqrt(squares);
      for (int j = 0; j < dimension; j++) {
        normalised[c * dimension + j] = (float) (normalised[c * dimension + j] * scale);
      }
    }
    return new TextEmbeddings(source, classCount, dimension, normalised);
  }

  /** Reads a {@code .npy} file or a Parquet file/folder (see the class comment). */
  public static TextEmbeddings read(String location, Configuration conf) {
    Path path =
        new Path(
            location.contains("://")
                ? location
                : new java.io.File(location).getAbsoluteFile().toURI().toString());
    try {
      FileSystem fs = path.getFileSystem(conf);
      if (!fs.exists(path)) {
        throw new InvalidInputException(location, "no such file or directory");
      }
      if (path.getName().endsWith(".npy")) {
        Npy.Array array;
        try (InputStream in = fs.open(path)) {
          array = Npy.read(in, location);
        }
        if (array.shape().length != 2) {
          throw new InvalidInputException(
              location,
              "text embeddings must be a 2-dimensional array (classes x dimension), found shape "
                  + java.util.Arrays.toString(array.shape()));
        }
        float[] values = new float[array.values().length];
        for (int i = 0; i < values.length; i++) {
          values[i] = (float) array.values()[i];
        }
        return of(location, values, array.rows(), array.columns());
      }
      return readParquet(fs, path, location, conf);
    } catch (IOException e) {
      throw new InvalidInputException(location, "cannot read: " + e.getMessage(), e);
    }
  }

  private static TextEmbeddings readParquet(
      FileSystem fs, Path path, String location, Configuration conf) throws IOException {
    List<Path> files = new java.util.ArrayList<>();
    if (fs.getFileStatus(path).isDirectory()) {
      for (var child : fs.listStatus(path)) {
        String name = child.getPath().getName();
        if (child.isFile()
            && name.endsWith(".parquet")
            && !name.startsWith(".")
            && !name.startsWith("_")) {
          files.add(child.getPath());
        }
      }
      files.sort(null);
    } else if (path.getName().endsWith(".parquet")) {
      files.add(path);
    }
    if (files.isEmpty()) {
      throw new InvalidInputException(
          location,
          "unknown text embedding format: expected a .npy file or Parquet (DatasetRow, label = class id)");
    }
    java.util.TreeMap<Integer, double[]> sums = new java.util.TreeMap<>();
    int dimension = -1;
    for (Path file : files) {
      List<DatasetRow> rows = ParquetFiles.read(file, conf, DatasetRow.getClassSchema());
      for (int i = 0; i < rows.size(); i++) {
        DatasetRow row = rows.get(i);
        if (row.getLabel() == null || row.getLabel() < 0) {
          throw new InvalidInputException(
              file.toString(), "row " + i + " (id " + row.getId() + ") has no class id in 'label'");
        }
        float[] e = FloatArrays.toArray(row.getEmbedding());
        if (dimension < 0) {
          dimension = e.length;
        } else if (e.length != dimension) {
          throw new InvalidInputException(
              file.toString(),
              "row "
                  + i
                  + " (id "
                  + row.getId()
                  + ") has "
                  + e.length
                  + " values, earlier rows have "
                  + dimension);
        }
        double[] sum = sums.computeIfAbsent(row.getLabel(), c -> new double[e.length]);
        double squares = 0;
        for (float v : e) {
          squares += (double) v * v;
        }
        double scale = squares > 0 && Double.isFinite(squares) ? 1 / Math.sqrt(squares) : 1;
        for (int j = 0; j < e.length; j++) {
          sum[j] += e[j] * scale; // prompt variants: average of unit vectors
        }
      }
    }
    if (sums.isEmpty()) {
      throw new InvalidInputException(location, "holds no rows");
    }
    int classCount = sums.lastKey() + 1;
    TreeSet<Integer> missing = new TreeSet<>();
    float[] values = new float[classCount * dimension];
    for (int c = 0; c < classCount; c++) {
      double[] sum = sums.get(c);
      if (sum == null) {
        missing.add(c);
        continue;
      }
      for (int j = 0; j < dimension; j++) {
        values[c * dimension + j] = (float) sum[j];
      }
    }
    if (!missing.isEmpty()) {
      throw new InvalidInputException(
          location,
          "no text embedding for classes "
              + abbreviate(missing)
              + " (labels run to "
              + (classCount - 1)
              + ")");
    }
    return of(location, values, classCount, dimension);
  }

  static String abbreviate(java.util.Collection<Integer> ids) {
    List<Integer> list = List.copyOf(ids);
    return list.size() <= 10
        ? list.toString()
        : list.subList(0, 10) + " and " + (list.size() - 10) + " more";
  }

  /**
   * Checks that these embeddings fit a federation of {@code classCount} classes and {@code
   * dimension}-long embeddings; the error names the file and both figures.
   */
  public TextEmbeddings requireShape(int expectedClasses, int expectedDimension) {
    if (dimension != expectedDimension) {
      throw new InvalidInputException(
          source,
          "text embeddings have dimension "
              + dimension
              + ", the federation's embeddings have "
              + expectedDimension);
    }
    if (classCount != expectedClasses) {
      throw new InvalidInputException(
          source,
          "text embeddings hold " + classCount + " classes, the federation has " + expectedClasses);
    }
    return this;
  }

  public String source() {
    return source;
  }

  public int classCount() {
    return classCount;
  }

  public int dimension() {
    return dimension;
  }

  /** A copy of class {@code c}'s unit-length embedding. */
  public float[] row(int c) {
    return java.util.Arrays.copyOfRange(values, c * dimension, (c + 1) * dimension);
  }

  /** All rows, row-major {@code classCount x dimension}; do not modify. */
  public float[] values() {
    return values;
  }
}
