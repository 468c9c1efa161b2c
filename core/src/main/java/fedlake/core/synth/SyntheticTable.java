package fedlake.core.synth;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.model.FloatArrays;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.schema.SyntheticProvenance;
import fedlake.schema.SyntheticRow;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * A class-balanced synthetic embedding table: one Parquet file of {@link SyntheticRow}s with
 * exactly {@code perClass} rows for every class it covers, ordered by class then index, and its
 * {@link SyntheticProvenance} as JSON in the footer. The file is written next to its final name and
 * renamed into place (or uploaded in one piece to an object store), so readers never see half a
 * table, and an existing table is never replaced.
 */
public final class SyntheticTable {
  /** Footer key of the provenance JSON. */
  public static final String PROVENANCE_KEY = "fedlake.synthetic.provenance";

  public static final String VERSION = "0.1.0";

  private SyntheticTable() {}

  /** What happens to classes the source has nothing for. */
  public enum MissingClasses {
    /** Refuse to write the table and name the classes (default). */
    FAIL,
    /** Write the other classes; the provenance lists the missing ones. */
    SKIP
  }

  /** The classes {@code source} does not cover, ascending. */
  public static List<Integer> missing(SyntheticSource source) {
    List<Integer> missing = new ArrayList<>();
    for (int c = 0; c < source.classCount(); c++) {
      if (!source.covers(c)) {
        missing.add(c);
      }
    }
    return missing;
  }

  /** Applies the policy: an error naming the classes without a source, or the classes to write. */
  public static List<Integer> classesToWrite(SyntheticSource source, MissingClasses policy) {
    List<Integer> missing = missing(source);
    if (!missing.isEmpty() && policy == MissingClasses.FAIL) {
      throw new IllegalArgumentException(
          "Cannot write a class-balanced table from source '"
              + source.name()
              + "': "
              + missing.size()
              + " of "
              + source.classCount()
              + " classes have no source: "
              + TextEmbeddings.abbreviate(missing)
              + (GaussianSource.NAME.equals(source.name())
                  ? " (no site reported statistics for them)"
                  : "")
              + "; pass --skip-missing-classes to write the others");
    }
    List<Integer> classes = new ArrayList<>();
    for (int c = 0; c < source.classCount(); c++) {
      if (source.covers(c)) {
        classes.add(c);
      }
    }
    if (classes.isEmpty()) {
      throw new IllegalArgumentException(
          "Cannot write a synthetic table from source '" + source.name() + "': it covers no class");
    }
    return classes;
  }

  /**
   * Exactly {@code perClass} embeddings of class {@code classId} from the class's own random
   * stream, checked (count, dimension, finite values): what a Spark task computes for one class.
   */
  public static ClassEmbeddings embeddings(
      SyntheticSource source, int classId, int perClass, long seed) {
    ClassEmbeddings embeddings =
        source.embeddings(classId, perClass, Seeds.forClass(seed, classId));
    return check(source.name(), embeddings, classId, perClass, source.dimension());
  }

  /** Checks what a source returned for one class. */
  public static ClassEmbeddings check(
      String source, ClassEmbeddings embeddings, int classId, int perClass, int dimension) {
    if (embeddings.classId() != classId
        || embeddings.rows() != perClass
        || embeddings.dimension() != dimension) {
      throw new IllegalStateException(
          "source '"
              + source
              + "' returned "
              + embeddings.rows()
              + " rows of dimension "
              + embeddings.dimension()
              + " for class "
              + embeddings.classId()
              + ", expected "
              + perClass
              + " of dimension "
              + dimension
              + " for class "
              + classId);
    }
    for (float v : embeddings.values()) {
      if (!Float.isFinite(v)) {
        throw new IllegalStateException(
            "source '" + source + "' produced a non-finite value for class " + classId);
      }
    }
    return embeddings;
  }

  /** The table rows of one class's embeddings. */
  public static List<SyntheticRow> toRows(ClassEmbeddings embeddings, String source, long seed) {
    List<SyntheticRow> rows = new ArrayList<>(embeddings.rows());
    for (int i = 0; i < embeddings.rows(); i++) {
      rows.add(
          new SyntheticRow(
              embeddings.classId(), i, FloatArrays.asList(embeddings.row(i)), source, seed));
    }
    return rows;
  }

  /** The rows of class {@code classId}: {@link #embeddings} as table rows. */
  public static List<SyntheticRow> rows(
      SyntheticSource source, int classId, int perClass, long seed) {
    return toRows(embeddings(source, classId, perClass, seed), source.name(), seed);
  }

  /** Every row of the table in this JVM, class by class (what the Spark job does in partitions). */
  public static List<SyntheticRow> generate(
      SyntheticSource source, int perClass, long seed, MissingClasses policy) {
    requirePerClass(perClass);
    List<SyntheticRow> rows = new ArrayList<>();
    for (int c : classesToWrite(source, policy)) {
      rows.addAll(rows(source, c, perClass, seed));
    }
    return rows;
  }

  public static int requirePerClass(int perClass) {
    if (perClass < 1) {
      throw new IllegalArgumentException(
          "synthesize: rows per class must be at least 1, got " + perClass);
    }
    return perClass;
  }

  /** The provenance of a table about to be written from {@code source}. */
  public static SyntheticProvenance provenance(
      SyntheticSource source, int perClass, long seed, List<Integer> missing, long now) {
    return SyntheticProvenance.newBuilder()
        .setSource(source.name())
        .setSeed(seed)
        .setPerClass(perClass)
        .setClassCount(source.classCount())
        .setDimension(source.dimension())
        .setMissingClasses(missing)
        .setParameters(new java.util.LinkedHashMap<>(source.parameters()))
        .setFedlakeVersion(VERSION)
        .setCreatedTime(Instant.ofEpochMilli(now))
        .build();
  }

  /** Where a named table lives in a store: {@code ROOT/synthetic/NAME.parquet}. */
  public static Path inStore(Store store, String name) {
    if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
      throw new IllegalArgumentException(
          "Invalid synthetic table name '"
              + name
              + "': use 1-128 letters, digits, '.', '_' or '-'");
    }
    return store.path("synthetic/" + name + ".parquet");
  }

  /**
   * Writes the table to {@code target} atomically; refuses when {@code target} exists. {@code rows}
   * are written in the order given (class, then index) and may be streamed.
   */
  public static void write(
      Store store, Path target, Iterable<SyntheticRow> rows, SyntheticProvenance provenance) {
    try {
      if (store.fileSystem().exists(target)) {
        throw new IllegalArgumentException(
            "Cannot write synthetic table "
                + target
                + ": it exists already (tables are never replaced; "
                + "choose another --name or --out)");
      }
      String json = toJson(provenance);
      store.writeAtomically(
          target,
          path ->
              ParquetFiles.write(
                  path,
                  store.conf(),
                  SyntheticRow.getClassSchema(),
                  rows,
                  Map.of(PROVENANCE_KEY, json)));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write synthetic table " + target + ": " + e.getMessage(), e);
    }
  }

  /** A table read back: its provenance and its rows as a labelled data set. */
  public record Table(String file, SyntheticProvenance provenance, Dataset data) {}

  /**
   * Reads a table and checks it against its provenance: one dimension, exactly perClass rows of
   * each covered class.
   */
  public static Table read(Path file, Configuration conf) {
    SyntheticProvenance provenance = readProvenance(file, conf);
    List<SyntheticRow> rows = ParquetFiles.read(file, conf, SyntheticRow.getClassSchema());
    int d = provenance.getDimension();
    float[] features = new float[rows.size() * d];
    int[] labels = new int[rows.size()];
    long[] counts = new long[provenance.getClassCount()];
    for (int i = 0; i < rows.size(); i++) {
      SyntheticRow row = rows.get(i);
      if (row.getEmbedding().size() != d) {
        throw new InvalidInputException(
            file.toString(),
            "row "
                + i
                + " has "
                + row.getEmbedding().size()
                + " values, the table's dimension is "
                + d);
      }
      int c = row.getClassId();
      if (c < 0 || c >= counts.length) {
        throw new InvalidInputException(
            file.toString(), "row " + i + " has class " + c + " outside 0.." + (counts.length - 1));
      }
      counts[c]++;
      labels[i] = c;
      System.arraycopy(FloatArrays.toArray(row.getEmbedding()), 0, features, i * d, d);
    }
    java.util.Set<Integer> missing = new java.util.HashSet<>(provenance.getMissingClasses());
    for (int c = 0; c < counts.length; c++) {
      long expected = missing.contains(c) ? 0 : provenance.getPerClass();
      if (counts[c] != expected) {
        throw new InvalidInputException(
            file.toString(),
            "class " + c + " has " + counts[c] + " rows, the provenance promises " + expected);
      }
    }
    return new Table(file.toString(), provenance, Dataset.of(file.toString(), features, labels, d));
  }

  public static SyntheticProvenance readProvenance(Path file, Configuration conf) {
    String json = ParquetFiles.footer(file, conf).get(PROVENANCE_KEY);
    if (json == null) {
      throw new InvalidInputException(
          file.toString(),
          "not a synthetic table: no '" + PROVENANCE_KEY + "' in the Parquet footer");
    }
    try {
      return new SpecificDatumReader<>(SyntheticProvenance.class)
          .read(null, DecoderFactory.get().jsonDecoder(SyntheticProvenance.getClassSchema(), json));
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(
          file.toString(), "unreadable provenance in the footer: " + e.getMessage(), e);
    }
  }

  public static String toJson(SyntheticProvenance provenance) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      JsonEncoder encoder =
          EncoderFactory.get().jsonEncoder(SyntheticProvenance.getClassSchema(), out);
      new SpecificDatumWriter<>(SyntheticProvenance.class).write(provenance, encoder);
      encoder.flush();
      return out.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
