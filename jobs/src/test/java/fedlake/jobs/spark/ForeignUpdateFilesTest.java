package fedlake.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.Store;
import fedlake.jobs.SparkTestBase;
import fedlake.schema.Model;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Update files written "from the schema alone" by other writers (DuckDB's COPY, Spark's DataFrame
 * writer) next to one written by fedlake (parquet-avro): the round job must read every number
 * exactly. The expected model is the float64 weighted mean computed here from the same floats,
 * rounded to float.
 */
class ForeignUpdateFilesTest extends SparkTestBase {
  private static final int DIMENSION = 3;
  private static final int CLASSES = 2;
  private static final int SIZE = DIMENSION * CLASSES + CLASSES;

  /** Now: within the round job's clock skew of the base model each test makes. */
  private static final long CREATED = System.currentTimeMillis();

  @TempDir Path dir;

  /** One site's update: what the test writes and averages. */
  private record Site(String name, long examples, float[] weights, float[] bias) {
    float[] parameters() {
      float[] p = Arrays.copyOf(weights, SIZE);
      System.arraycopy(bias, 0, p, weights.length, bias.length);
      return p;
    }
  }

  @Test
  void duckDbAndSparkUpdatesAreReadExactly() throws Exception {
    Path root = dir.resolve("store");
    Store store = Store.open(root.toUri().toString());
    new Federation(store).dimension(DIMENSION).classes(CLASSES).execute();
    Model base = store.readModel(0, 0);
    Path round = Files.createDirectories(Path.of(store.updatesDir(0).toUri()));
    Random random = new Random(20240611L);

    // DuckDB 1.1.3 writes float lists PLAIN, repeated values or not; parquet-mr (Spark) uses a
    // dictionary for repeated ones
    Site duckRepeated =
        new Site(
            "duck-repeated",
            40,
            repeated(random, DIMENSION * CLASSES, 2),
            repeated(random, CLASSES, 1));
    Site duckPlain =
        new Site(
            "duck-plain", 25, distinct(random, DIMENSION * CLASSES), distinct(random, CLASSES));
    Site sparkSite =
        new Site(
            "spark-site", 15, distinct(random, DIMENSION * CLASSES), distinct(random, CLASSES));
    Site sparkRepeated =
        new Site(
            "spark-dict",
            7,
            repeated(random, DIMENSION * CLASSES, 2),
            repeated(random, CLASSES, 1));
    Site fedlake =
        new Site(
            "fedlake-site", 20, distinct(random, DIMENSION * CLASSES), distinct(random, CLASSES));

    Path repeatedFile = duckDb(round.resolve("duck-repeated--d1.parquet"), base, duckRepeated, "");
    Path plain = duckDb(round.resolve("duck-plain--p1.parquet"), base, duckPlain, "");
    Path spark = spark(round.resolve("spark-site--s1.parquet"), base, sparkSite);
    Path sparkDict = spark(round.resolve("spark-dict--s2.parquet"), base, sparkRepeated);
    store.writeUpdate(avro(base, fedlake));

    // the files are what the test means them to be
    assertEquals(
        List.of(false, false),
        List.of(dictionaryEncoded(repeatedFile, "weights"), dictionaryEncoded(plain, "weights")),
        "DuckDB 1.1.3 writes float lists plain");
    assertEquals(
        List.of(true, true),
        List.of(dictionaryEncoded(sparkDict, "weights"), dictionaryEncoded(sparkDict, "bias")),
        "Spark (parquet-mr) dictionary-encodes the repeated floats");
    assertFalse(dictionaryEncoded(spark, "weights"), "and falls back to plain for distinct ones");
    for (Path file : List.of(repeatedFile, plain)) {
      PrimitiveType created = leaf(file, "createdTime");
      assertEquals(
          PrimitiveType.PrimitiveTypeName.INT64, created.getPrimitiveTypeName(), file.toString());
      // parquet-avro writes TIMESTAMP(MILLIS, true); DuckDB's TIMESTAMP_MS is the same INT64
      // millis, not marked UTC
      assertEquals(
          LogicalTypeAnnotation.timestampType(false, LogicalTypeAnnotation.TimeUnit.MILLIS),
          created.getLogicalTypeAnnotation());
    }
    assertEquals(
        PrimitiveType.PrimitiveTypeName.INT64, leaf(spark, "createdTime").getPrimitiveTypeName());

    List<Site> sites = List.of(duckRepeated, duckPlain, sparkSite, sparkRepeated, fedlake);
    float[] expected = weightedMean(sites);

    RoundResult local = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, local.status(), local.message());
    List<UpdateAudit> audit = store.readAudit(0);
    assertEquals(
        List.of("accepted", "accepted", "accepted", "accepted", "accepted"),
        audit.stream().map(UpdateAudit::getStatus).toList(),
        audit.toString());
    assertEquals(
        List.of("duck-plain", "duck-repeated", "fedlake-site", "spark-dict", "spark-site"),
        audit.stream().map(UpdateAudit::getSite).toList());
    Model published = local.published().get(0);
    assertEquals(5, published.getParticipants());
    assertBitsEqual(expected, Models.parameters(published));
  }

  @Test
  void sparkScannerReadsTheSameForeignFiles() throws Exception {
    Path root = dir.resolve("spark-store");
    Store store = Store.open(root.toUri().toString());
    new Federation(store).dimension(DIMENSION).classes(CLASSES).execute();
    Model base = store.readModel(0, 0);
    Path round = Files.createDirectories(Path.of(store.updatesDir(0).toUri()));
    Random random = new Random(7L);
    Site duckRepeated =
        new Site(
            "duck-repeated",
            11,
            repeated(random, DIMENSION * CLASSES, 3),
            repeated(random, CLASSES, 1));
    Site duckPlain =
        new Site(
            "duck-plain", 13, distinct(random, DIMENSION * CLASSES), distinct(random, CLASSES));
    Site sparkSite =
        new Site(
            "spark-site", 17, distinct(random, DIMENSION * CLASSES), distinct(random, CLASSES));
    duckDb(round.resolve("duck-repeated--d1.parquet"), base, duckRepeated, "");
    duckDb(round.resolve("duck-plain--p1.parquet"), base, duckPlain, "");
    spark(round.resolve("spark-site--s1.parquet"), base, sparkSite);

    RoundResult result =
        new RoundJob(store).scanner(new SparkScanner(spark()).partitions(2)).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    assertEquals(3, result.published().get(0).getParticipants());
    assertBitsEqual(
        weightedMean(List.of(duckRepeated, duckPlain, sparkSite)),
        Models.parameters(result.published().get(0)));
  }

  // ---- expected values -------------------------------------------------------------------------

  /** sum(n_i * p_i) / sum(n_i) in float64 from the floats written, rounded once to float. */
  private static float[] weightedMean(List<Site> sites) {
    double[] sums = new double[SIZE];
    long total = 0;
    for (Site site : sites) {
      float[] p = site.parameters();
      for (int i = 0; i < SIZE; i++) {
        sums[i] += site.examples() * (double) p[i];
      }
      total += site.examples();
    }
    float[] mean = new float[SIZE];
    for (int i = 0; i < SIZE; i++) {
      mean[i] = (float) (sums[i] / total);
    }
    return mean;
  }

  private static void assertBitsEqual(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length);
    int[] e = new int[expected.length];
    int[] a = new int[actual.length];
    for (int i = 0; i < e.length; i++) {
      e[i] = Float.floatToRawIntBits(expected[i]);
      a[i] = Float.floatToRawIntBits(actual[i]);
    }
    assertArrayEquals(e, a, () -> Arrays.toString(expected) + " vs " + Arrays.toString(actual));
  }

  /**
   * Gaussian floats on a grid of 2^-12 (so the float64 sums above are exact and only the division
   * rounds, as in the round job's exact sum); none repeated.
   */
  private static float[] distinct(Random random, int n) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      float v;
      do {
        v = Math.round(random.nextGaussian() * 4096) / 4096f;
      } while (contains(values, i, v));
      values[i] = v;
    }
    return values;
  }

  /** {@code n} floats drawn from {@code kinds} distinct ones, each repeated. */
  private static float[] repeated(Random random, int n, int kinds) {
    float[] pool = distinct(random, kinds);
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = pool[i % kinds];
    }
    return values;
  }

  private static boolean contains(float[] values, int n, float v) {
    for (int i = 0; i < n; i++) {
      if (values[i] == v) {
        return true;
      }
    }
    return false;
  }

  // ---- writers ---------------------------------------------------------------------------------

  /** One update row written by DuckDB's COPY with the Update schema's names and types. */
  private static Path duckDb(Path file, Model base, Site site, String options) throws Exception {
    long[] histogram = new long[CLASSES];
    histogram[0] = site.examples();
    String sql =
        "COPY (SELECT "
            + "'"
            + site.name()
            + "-id' AS updateId, "
            + "'"
            + site.name()
            + "' AS site, "
            + "CAST("
            + base.getRound()
            + " AS INTEGER) AS round, "
            + "CAST(0 AS INTEGER) AS cluster, "
            + "'"
            + base.getVersion()
            + "' AS baseModelVersion, "
            + "'"
            + base.getKind()
            + "' AS kind, "
            + "CAST("
            + DIMENSION
            + " AS INTEGER) AS dimension, "
            + "CAST("
            + CLASSES
            + " AS INTEGER) AS classCount, "
            + "CAST("
            + site.examples()
            + " AS BIGINT) AS numExamples, "
            + "CAST(1 AS INTEGER) AS localEpochs, "
            + "CAST(1 AS INTEGER) AS localSteps, "
            + floatList(site.weights())
            + " AS weights, "
            + floatList(site.bias())
            + " AS bias, "
            + "CAST([] AS FLOAT[]) AS cacheKeys, "
            + "CAST([] AS FLOAT[]) AS controlDelta, "
            + "CAST(0.5 AS DOUBLE) AS localLoss, "
            + "CAST(0.75 AS DOUBLE) AS localAccuracy, "
            + "CAST("
            + Arrays.toString(histogram)
            + " AS BIGINT[]) AS labelHistogram, "
            + "CAST(0 AS INTEGER) AS specVersion, "
            + "'duckdb' AS runnerVersion, "
            + "CAST(epoch_ms(CAST("
            + CREATED
            + " AS BIGINT)) AS TIMESTAMP_MS) AS createdTime"
            + ") TO '"
            + file
            + "' (FORMAT PARQUET"
            + options
            + ")";
    try (Connection connection = DriverManager.getConnection("jdbc:duckdb:");
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
    return file;
  }

  /**
   * A FLOAT[] literal whose elements are exact: each float's shortest decimal parsed as DOUBLE,
   * cast to FLOAT.
   */
  private static String floatList(float[] values) {
    return IntStream.range(0, values.length)
        .mapToObj(i -> "CAST(CAST('" + Double.toString(values[i]) + "' AS DOUBLE) AS FLOAT)")
        .collect(Collectors.joining(", ", "[", "]"));
  }

  /**
   * One update row written by Spark's DataFrame writer (lists as array<float>, createdTime as long
   * millis).
   */
  private Path spark(Path file, Model base, Site site) throws IOException {
    StructType schema =
        new StructType(
            new StructField[] {
              DataTypes.createStructField("updateId", DataTypes.StringType, false),
              DataTypes.createStructField("site", DataTypes.StringType, false),
              DataTypes.createStructField("round", DataTypes.IntegerType, false),
              DataTypes.createStructField("cluster", DataTypes.IntegerType, false),
              DataTypes.createStructField("baseModelVersion", DataTypes.StringType, false),
              DataTypes.createStructField("kind", DataTypes.StringType, false),
              DataTypes.createStructField("dimension", DataTypes.IntegerType, false),
              DataTypes.createStructField("classCount", DataTypes.IntegerType, false),
              DataTypes.createStructField("numExamples", DataTypes.LongType, false),
              DataTypes.createStructField("localEpochs", DataTypes.IntegerType, false),
              DataTypes.createStructField("localSteps", DataTypes.IntegerType, false),
              DataTypes.createStructField(
                  "weights", DataTypes.createArrayType(DataTypes.FloatType, false), false),
              DataTypes.createStructField(
                  "bias", DataTypes.createArrayType(DataTypes.FloatType, false), false),
              DataTypes.createStructField(
                  "cacheKeys", DataTypes.createArrayType(DataTypes.FloatType, false), false),
              DataTypes.createStructField(
                  "controlDelta", DataTypes.createArrayType(DataTypes.FloatType, false), false),
              DataTypes.createStructField("localLoss", DataTypes.DoubleType, false),
              DataTypes.createStructField("localAccuracy", DataTypes.DoubleType, false),
              DataTypes.createStructField(
                  "labelHistogram", DataTypes.createArrayType(DataTypes.LongType, false), false),
              DataTypes.createStructField("specVersion", DataTypes.IntegerType, false),
              DataTypes.createStructField("runnerVersion", DataTypes.StringType, false),
              DataTypes.createStructField("createdTime", DataTypes.LongType, false)
            });
    List<Long> histogram = new ArrayList<>(List.of(site.examples()));
    while (histogram.size() < CLASSES) {
      histogram.add(0L);
    }
    Row row =
        RowFactory.create(
            site.name() + "-id",
            site.name(),
            base.getRound(),
            0,
            base.getVersion(),
            base.getKind(),
            DIMENSION,
            CLASSES,
            site.examples(),
            1,
            1,
            boxed(site.weights()),
            boxed(site.bias()),
            List.of(),
            List.of(),
            0.5,
            0.75,
            histogram,
            0,
            "spark",
            CREATED);
    Path out = dir.resolve("spark-out-" + site.name());
    spark().createDataFrame(List.of(row), schema).coalesce(1).write().parquet(out.toString());
    Path part;
    try (Stream<Path> files = Files.list(out)) {
      part =
          files
              .filter(
                  p ->
                      p.getFileName().toString().startsWith("part-")
                          && p.toString().endsWith(".parquet"))
              .findFirst()
              .orElseThrow();
    }
    return Files.copy(part, file);
  }

  /** The same row as fedlake's edge runner writes it (parquet-avro). */
  private static Update avro(Model base, Site site) {
    long[] histogram = new long[CLASSES];
    histogram[0] = site.examples();
    return Update.newBuilder()
        .setUpdateId(site.name() + "-id")
        .setSite(site.name())
        .setRound(base.getRound())
        .setCluster(0)
        .setBaseModelVersion(base.getVersion())
        .setKind(base.getKind())
        .setDimension(DIMENSION)
        .setClassCount(CLASSES)
        .setNumExamples(site.examples())
        .setLocalEpochs(1)
        .setLocalSteps(1)
        .setWeights(FloatArrays.asList(site.weights()))
        .setBias(FloatArrays.asList(site.bias()))
        .setLocalLoss(0.5)
        .setLocalAccuracy(0.75)
        .setLabelHistogram(FloatArrays.asList(histogram))
        .setRunnerVersion("test")
        .setCreatedTime(Instant.ofEpochMilli(CREATED))
        .build();
  }

  private static List<Float> boxed(float[] values) {
    return new ArrayList<>(FloatArrays.asList(values));
  }

  // ---- footers ---------------------------------------------------------------------------------

  private static ParquetMetadata footer(Path file) throws IOException {
    try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file))) {
      return reader.getFooter();
    }
  }

  private static boolean dictionaryEncoded(Path file, String field) throws IOException {
    ColumnChunkMetaData chunk =
        footer(file).getBlocks().get(0).getColumns().stream()
            .filter(c -> c.getPath().toArray()[0].equals(field))
            .findFirst()
            .orElseThrow();
    return chunk.hasDictionaryPage()
        && chunk.getEncodings().stream().anyMatch(Encoding::usesDictionary);
  }

  private static PrimitiveType leaf(Path file, String field) throws IOException {
    return footer(file).getFileMetaData().getSchema().getType(field).asPrimitiveType();
  }
}
