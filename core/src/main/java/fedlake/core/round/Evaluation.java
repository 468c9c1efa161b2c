package fedlake.core.round;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.model.Classifier;
import fedlake.core.model.Models;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.schema.DatasetRow;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The federation's held-out evaluation: a labelled set registered in the store ({@code
 * ROOT/evaluation/eval-HASH.parquet}, named by the pointer {@code ROOT/evaluation/_CURRENT}) on
 * which the round job measures every model it publishes, and the spread of the accuracies sites
 * report on their own held-out rows. Both go into the round's history rows ({@link #record}).
 */
public final class Evaluation {
  /** Folder of evaluation sets under the store root. */
  public static final String FOLDER = "evaluation";

  /** Pointer file naming the registered evaluation set. */
  public static final String POINTER = "_CURRENT";

  private Evaluation() {}

  /** Accuracy over all rows and per class of one model on one labelled set. */
  public record Result(long rows, long correct, long[] classRows, long[] classCorrect) {
    public double accuracy() {
      return rows == 0 ? Double.NaN : (double) correct / rows;
    }

    /** Per class, index = class id; NaN for a class without rows. */
    public List<Double> perClass() {
      List<Double> out = new ArrayList<>(classRows.length);
      for (int c = 0; c < classRows.length; c++) {
        out.add(classRows[c] == 0 ? Double.NaN : (double) classCorrect[c] / classRows[c]);
      }
      return out;
    }
  }

  /**
   * Scores every row of {@code data} labelled in [0, classCount) with {@code model}: the predicted
   * class is the first largest logit, as in {@link Classifier#evaluate}.
   */
  public static Result measure(Classifier model, Dataset data) {
    int classes = model.classCount();
    int dimension = model.dimension();
    if (data.dimension() != dimension) {
      throw new InvalidInputException(
          data.source(),
          "rows have dimension " + data.dimension() + ", the model expects " + dimension);
    }
    long[] classRows = new long[classes];
    long[] classCorrect = new long[classes];
    double[] logits = new double[classes];
    float[] features = data.features();
    long rows = 0;
    long correct = 0;
    for (int row = 0; row < data.size(); row++) {
      int label = data.label(row);
      if (label < 0 || label >= classes) {
        continue;
      }
      model.logits(features, row * dimension, logits);
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (logits[c] > logits[best]) {
          best = c;
        }
      }
      rows++;
      classRows[label]++;
      if (best == label) {
        correct++;
        classCorrect[label]++;
      }
    }
    return new Result(rows, correct, classRows, classCorrect);
  }

  /** A registered evaluation set: its file name in the store folder and its rows. */
  public record Registered(String name, Path file, Dataset data) {}

  /**
   * Registers {@code data} as the federation's evaluation set: checks it against the current model
   * (dimension, every row labelled within its classes), writes it as a DatasetRow Parquet file
   * named by the hash of its content, then moves the pointer to it. Every later round uses it.
   */
  public static Registered register(Store store, Dataset data) {
    fedlake.core.store.Latest latest = store.requireLatest();
    Model model = store.readModel(latest.round(), latest.versions().firstKey());
    if (data.size() == 0) {
      throw new InvalidInputException(data.source(), "holds no rows");
    }
    if (data.dimension() != model.getDimension()) {
      throw new InvalidInputException(
          data.source(),
          "rows have dimension "
              + data.dimension()
              + " but the federation's model "
              + model.getVersion()
              + " expects "
              + model.getDimension());
    }
    for (int row = 0; row < data.size(); row++) {
      int label = data.label(row);
      if (label == Dataset.UNLABELLED) {
        throw new InvalidInputException(
            data.labelSource(), "row " + row + " has no label; an evaluation set needs labels");
      }
      if (label >= model.getClassCount()) {
        throw new InvalidInputException(
            data.labelSource(),
            "row "
                + row
                + " has label "
                + label
                + " but the model has "
                + model.getClassCount()
                + " classes (0.."
                + (model.getClassCount() - 1)
                + ")");
      }
    }
    String name = "eval-" + hash(data) + ".parquet";
    Path file = new Path(store.path(FOLDER), name);
    try {
      store.writeAtomically(
          file, path -> DatasetFiles.writeParquet(data, path, store.conf(), "eval-"));
      Properties pointer = new Properties();
      pointer.setProperty("file", name);
      pointer.setProperty("rows", Integer.toString(data.size()));
      pointer.setProperty("source", data.source());
      FileSystem fs = store.fileSystem();
      store.writeAtomically(
          new Path(store.path(FOLDER), POINTER),
          path -> {
            try (OutputStream out = fs.create(path, true)) {
              pointer.store(
                  new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8),
                  "evaluation set of the federation (fedlake evaluation set)");
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write evaluation set " + file + ": " + e.getMessage(), e);
    }
    return new Registered(name, file, data);
  }

  /** The registered evaluation set's file, or empty when none is registered. */
  public static Optional<Path> registeredFile(Store store) {
    Path pointer = new Path(store.path(FOLDER), POINTER);
    try {
      FileSystem fs = store.fileSystem();
      if (!fs.exists(pointer)) {
        return Optional.empty();
      }
      Properties properties = new Properties();
      try (InputStream in = fs.open(pointer)) {
        properties.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
      }
      String name = properties.getProperty("file", "").trim();
      if (!name.matches("eval-[0-9a-f]+\\.parquet")) {
        throw new InvalidInputException(
            pointer.toString(),
            "names no evaluation file (file=eval-HASH.parquet), found '" + name + "'");
      }
      return Optional.of(new Path(store.path(FOLDER), name));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + pointer + ": " + e.getMessage(), e);
    }
  }

  /** The registered evaluation set with its rows, or empty when none is registered. */
  public static Optional<Registered> registered(Store store) {
    return registeredFile(store)
        .map(file -> new Registered(file.getName(), file, read(file, store.conf())));
  }

  /** The rows of an evaluation file of the store (DatasetRow Parquet); errors name the file. */
  static Dataset read(Path file, org.apache.hadoop.conf.Configuration conf) {
    List<DatasetRow> records;
    try {
      records = ParquetFiles.read(file, conf, DatasetRow.getClassSchema());
    } catch (InvalidInputException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new InvalidInputException(
          file.toString(), "cannot read as a DatasetRow Parquet file: " + e.getMessage(), e);
    }
    if (records.isEmpty()) {
      throw new InvalidInputException(file.toString(), "holds no rows");
    }
    int dimension = records.get(0).getEmbedding().size();
    float[] features = new float[records.size() * dimension];
    int[] labels = new int[records.size()];
    for (int i = 0; i < records.size(); i++) {
      DatasetRow row = records.get(i);
      if (row.getEmbedding().size() != dimension) {
        throw new InvalidInputException(
            file.toString(),
            "row " + i + " has " + row.getEmbedding().size() + " values, row 0 has " + dimension);
      }
      for (int j = 0; j < dimension; j++) {
        features[i * dimension + j] = row.getEmbedding().get(j);
      }
      labels[i] = row.getLabel() == null ? Dataset.UNLABELLED : row.getLabel();
    }
    return Dataset.of(file.toString(), features, labels, dimension);
  }

  /**
   * Fills the evaluation fields of the round's history rows: test accuracy and per-class accuracy
   * of each row's published model on the registered evaluation set, and the min, median and max of
   * the holdout accuracies the row's aggregated updates report. An evaluation set that cannot be
   * read does not stop the round: the rows' message says why and their test accuracy stays null.
   */
  public static void record(
      Store store,
      List<RoundHistory> rows,
      Map<Integer, Model> published,
      List<UpdateCheck> checks) {
    Registered set = null;
    String problem = null;
    try {
      set = registered(store).orElse(null);
    } catch (RuntimeException e) {
      problem = "evaluation set not used: " + e.getMessage();
    }
    Map<String, Result> byVersion = new HashMap<>();
    for (RoundHistory row : rows) {
      spread(row, checks);
      Model model = published.get(row.getCluster());
      if (model == null || row.getPublishedModelVersion() == null) {
        continue;
      }
      if (problem != null) {
        row.setMessage(row.getMessage() + "; " + problem);
        continue;
      }
      if (set == null) {
        continue;
      }
      Result result;
      try {
        Registered data = set;
        result =
            byVersion.computeIfAbsent(
                model.getVersion(), v -> measure(Models.classifier(model), data.data()));
      } catch (RuntimeException e) {
        row.setMessage(row.getMessage() + "; evaluation set not used: " + e.getMessage());
        continue;
      }
      row.setEvaluationSet(set.name());
      row.setEvaluationRows(result.rows());
      if (result.rows() > 0) {
        row.setTestAccuracy(result.accuracy());
        row.setPerClassAccuracy(result.perClass());
      }
    }
  }

  /** Min, median and max holdout accuracy over the updates aggregated into {@code row}. */
  static void spread(RoundHistory row, List<UpdateCheck> checks) {
    Set<String> sites = new TreeSet<>(row.getParticipantSites());
    List<Double> values = new ArrayList<>();
    for (UpdateCheck c : checks) {
      Double a = c.holdoutAccuracy();
      if (c.accepted()
          && c.cluster() != null
          && c.cluster() == row.getCluster()
          && sites.contains(c.site())
          && a != null
          && a >= 0
          && a <= 1) {
        values.add(a);
      }
    }
    if (values.isEmpty()) {
      return;
    }
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = sorted.length;
    row.setSiteAccuracySites(n);
    row.setSiteAccuracyMin(sorted[0]);
    row.setSiteAccuracyMax(sorted[n - 1]);
    row.setSiteAccuracyMedian(n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2);
  }

  /** First 16 hex digits of the SHA-256 of the rows: dimension, labels and feature bits. */
  static String hash(Dataset data) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      ByteBuffer buffer = ByteBuffer.allocate(8);
      buffer.putInt(data.dimension()).putInt(data.size());
      digest.update(buffer.array());
      ByteBuffer values = ByteBuffer.allocate(4 * (data.size() + data.features().length));
      for (int label : data.labels()) {
        values.putInt(label);
      }
      for (float v : data.features()) {
        values.putFloat(v);
      }
      digest.update(values.array());
      return HexFormat.of().formatHex(Arrays.copyOf(digest.digest(), 8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
