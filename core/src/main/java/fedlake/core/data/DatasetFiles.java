package fedlake.core.data;

import fedlake.core.InvalidInputException;
import fedlake.core.model.FloatArrays;
import fedlake.core.store.ParquetFiles;
import fedlake.schema.DatasetRow;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Loads embedded data sets from a path or URI:
 *
 * <ul>
 *   <li>a Parquet file (or a folder of them) in the {@code DatasetRow} schema;
 *   <li>a folder holding {@code X.npy} and {@code y.npy} (or {@code train_X.npy} and {@code
 *       train_y.npy});
 *   <li>a file {@code NAME_X.npy} or {@code X.npy}, paired with {@code NAME_y.npy} or {@code y.npy}
 *       beside it.
 * </ul>
 */
public final class DatasetFiles {
  private DatasetFiles() {}

  public static Dataset read(String location, Configuration conf) {
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
      FileStatus status = fs.getFileStatus(path);
      if (status.isDirectory()) {
        for (String prefix : new String[] {"", "train_"}) {
          Path x = new Path(path, prefix + "X.npy");
          if (fs.exists(x)) {
            return readNpy(fs, x, new Path(path, prefix + "y.npy"), location);
          }
        }
        List<Path> parquet = new ArrayList<>();
        for (FileStatus child : fs.listStatus(path)) {
          String name = child.getPath().getName();
          if (child.isFile()
              && name.endsWith(".parquet")
              && !name.startsWith(".")
              && !name.startsWith("_")) {
            parquet.add(child.getPath());
          }
        }
        if (parquet.isEmpty()) {
          throw new InvalidInputException(
              location,
              "folder holds neither X.npy + y.npy, train_X.npy + train_y.npy nor .parquet files");
        }
        parquet.sort(null);
        return readParquet(parquet, conf, location);
      }
      String name = path.getName();
      if (name.endsWith("X.npy")) {
        Path y =
            new Path(
                path.getParent(), name.substring(0, name.length() - "X.npy".length()) + "y.npy");
        return readNpy(fs, path, y, location);
      }
      if (name.endsWith(".parquet")) {
        return readParquet(List.of(path), conf, location);
      }
      throw new InvalidInputException(
          location, "unknown data format: expected a .parquet file, an X.npy file or a folder");
    } catch (IOException e) {
      throw new InvalidInputException(location, "cannot read: " + e.getMessage(), e);
    }
  }

  private static Dataset readNpy(FileSystem fs, Path xFile, Path yFile, String location)
      throws IOException {
    if (!fs.exists(yFile)) {
      throw new InvalidInputException(
          yFile.toString(), "labels file missing (expected beside " + xFile.getName() + ")");
    }
    Npy.Array x = readArray(fs, xFile);
    Npy.Array y = readArray(fs, yFile);
    if (x.shape().length != 2) {
      throw new InvalidInputException(
          xFile.toString(),
          "embeddings must be a 2-dimensional array, found shape "
              + java.util.Arrays.toString(x.shape()));
    }
    if (y.shape().length != 1) {
      throw new InvalidInputException(
          yFile.toString(),
          "labels must be a 1-dimensional array, found shape "
              + java.util.Arrays.toString(y.shape()));
    }
    if (x.rows() != y.rows()) {
      throw new InvalidInputException(
          yFile.toString(),
          "has " + y.rows() + " labels but " + xFile.getName() + " has " + x.rows() + " rows");
    }
    float[] features = new float[x.values().length];
    for (int i = 0; i < features.length; i++) {
      features[i] = (float) x.values()[i];
    }
    int[] labels = new int[y.rows()];
    for (int i = 0; i < labels.length; i++) {
      double v = y.values()[i];
      if (v != Math.rint(v) || v < 0 || v > Integer.MAX_VALUE) {
        throw new InvalidInputException(
            yFile.toString(), "label " + v + " at row " + i + " is not a non-negative integer");
      }
      labels[i] = (int) v;
    }
    return Dataset.of(xFile.toString(), yFile.toString(), features, labels, x.columns());
  }

  private static Npy.Array readArray(FileSystem fs, Path file) throws IOException {
    try (InputStream in = fs.open(file)) {
      return Npy.read(in, file.toString());
    }
  }

  private static Dataset readParquet(List<Path> files, Configuration conf, String location) {
    List<float[]> rows = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    int dimension = -1;
    for (Path file : files) {
      List<DatasetRow> records = ParquetFiles.read(file, conf, DatasetRow.getClassSchema());
      for (int i = 0; i < records.size(); i++) {
        DatasetRow row = records.get(i);
        float[] embedding = FloatArrays.toArray(row.getEmbedding());
        if (dimension < 0) {
          dimension = embedding.length;
        } else if (embedding.length != dimension) {
          throw new InvalidInputException(
              file.toString(),
              "row "
                  + i
                  + " (id "
                  + row.getId()
                  + ") has "
                  + embedding.length
                  + " values, earlier rows have "
                  + dimension);
        }
        rows.add(embedding);
        labels.add(row.getLabel() == null ? Dataset.UNLABELLED : row.getLabel());
      }
    }
    if (rows.isEmpty()) {
      throw new InvalidInputException(location, "holds no rows");
    }
    float[] features = new float[rows.size() * dimension];
    for (int i = 0; i < rows.size(); i++) {
      System.arraycopy(rows.get(i), 0, features, i * dimension, dimension);
    }
    return Dataset.of(
        location, features, labels.stream().mapToInt(Integer::intValue).toArray(), dimension);
  }

  /** Writes {@code data} as one Parquet file in the DatasetRow schema. */
  public static void writeParquet(Dataset data, Path file, Configuration conf, String idPrefix)
      throws IOException {
    List<DatasetRow> rows = new ArrayList<>(data.size());
    for (int i = 0; i < data.size(); i++) {
      float[] embedding =
          java.util.Arrays.copyOfRange(
              data.features(), i * data.dimension(), (i + 1) * data.dimension());
      int label = data.label(i);
      rows.add(
          new DatasetRow(idPrefix + i, FloatArrays.asList(embedding), label < 0 ? null : label));
    }
    ParquetFiles.write(file, conf, DatasetRow.getClassSchema(), rows);
  }
}
