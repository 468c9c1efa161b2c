package fedlake.core.round;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.schema.ClassStatistics;
import fedlake.schema.FederationSpec;
import fedlake.schema.Model;
import fedlake.schema.RobustnessSpec;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.IndexedRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroSchemaConverter;
import org.apache.parquet.avro.AvroWriteSupport;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.parquet.hadoop.CodecFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile update files written page by page with Parquet's low-level {@link ParquetFileWriter}, so
 * that a file of a few KB can declare (or hold, as RLE runs) hundreds of millions of values. Each
 * is put in round 0 next to two good updates; the round must publish the weighted mean of the good
 * ones and give the hostile file an audit row with its exact reason, without decoding what the
 * footer already rules out.
 */
class UpdateFilesAttackTest {
  private static final int HUGE = 1 << 28;

  /** (10 * a + 30 * b) / 40 of the two good updates below, by hand. */
  private static final float[] GOOD_MEAN = {2.5f, 2.5f, -1f, -0.5625f, 0.25f, 0.5f};

  @TempDir Path dir;
  private Store store;
  private Model base;
  private MessageType schema;

  @BeforeEach
  void init() throws IOException {
    store = Store.open(dir.resolve("store").toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    base = store.readModel(0, 0);
    Configuration conf = new Configuration(false);
    conf.setBoolean(AvroWriteSupport.WRITE_OLD_LIST_STRUCTURE, false);
    schema = new AvroSchemaConverter(conf).convert(Update.getClassSchema());
    store.writeUpdate(
        Fixtures.update(base, "site-a", 10, floats(1, -2, 0.5, 0), floats(0.25, -1)).build());
    store.writeUpdate(
        Fixtures.update(base, "site-b", 30, floats(3, 4, -1.5, -0.75), floats(0.25, 1)).build());
  }

  // ---- the case ------------------------------------------------------------------------

  @Test
  void compressedUpdateDeclaringTwoToThe28WeightsIsAuditedAndTheGoodUpdatesPublished()
      throws Exception {
    HandWritten file = new HandWritten(row("site-c", 20));
    file.override("weights", (w, c) -> hugeDictionaryChunk(w, c, HUGE, HUGE));
    Path hostile = file.writeTo(updates("site-c--huge.parquet"));
    assertTrue(Files.size(hostile) < 8 * 1024, "a few KB: " + Files.size(hostile));
    ParquetMetadata footer = footer(hostile);
    assertEquals(
        HUGE, column(footer, "weights").getValueCount(), "the footer declares 2^28 weights");
    assertTrue(
        column(footer, "weights").getTotalUncompressedSize() < 100, "as a few bytes of RLE runs");

    // the model has 2 x 2 weights; the footer check rejects the file before any page is read
    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).execute(),
        hostile,
        "weights declares 268435456 values, the model has 4");
  }

  // ---- pages that contradict their footer ------------------------------------------------------

  @Test
  void pageHoldingMoreValuesThanItsFooterDeclaresIsRejected() throws Exception {
    HandWritten file = new HandWritten(row("site-c", 20));
    // the footer declares the model's 4 weights; the one data page holds 2^28
    file.override("weights", (w, c) -> hugeDictionaryChunk(w, c, 4, HUGE));
    Path hostile = file.writeTo(updates("site-c--liar.parquet"));
    assertEquals(4, column(footer(hostile), "weights").getValueCount());

    // the page headers are counted against the footer before any value is decoded
    UpdateAudit audit =
        assertRejectedNextToTheGoodOnes(new RoundJob(store).execute(), hostile, null);
    assertEquals(
        "column weights.list.element has pages of 268435456 values where the footer declares 4",
        audit.getReason());
  }

  @Test
  void pageHeaderDeclaringAHugeUncompressedSizeIsRejectedWithoutAllocatingIt() throws Exception {
    HandWritten file = new HandWritten(row("site-c", 20));
    int lie = 1 << 30;
    file.override("weights", (w, c) -> snappyChunk(w, c, floats(1, 1, 1, 1), lie));
    Path hostile = file.writeTo(updates("site-c--bomb.parquet"));
    // the footer still sums the lie: make it declare the honest size instead, as a hostile writer
    // would
    long declared = column(footer(hostile), "weights").getTotalUncompressedSize();
    assertTrue(declared > lie);
    patchFooterVarint(hostile, declared, 64);
    ParquetMetadata footer = footer(hostile);
    assertEquals(64, column(footer, "weights").getTotalUncompressedSize());

    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).execute(),
        hostile,
        "column weights.list.element has a page that declares "
            + lie
            + " uncompressed bytes, more than the 64 its footer leaves for it (64 for the column)");
  }

  // ---- shape and size limits -------------------------------------------------------------------

  @Test
  void fileOfTwoRowsIsRejected() throws Exception {
    Path hostile =
        new HandWritten(row("site-c", 20), row("site-c", 20))
            .writeTo(updates("site-c--two.parquet"));
    assertEquals(2, footer(hostile).getBlocks().get(0).getRowCount());

    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).execute(), hostile, "holds 2 rows; an update file holds exactly one");
  }

  @Test
  void fileOverMaxUpdateBytesIsRejected() throws Exception {
    long limit = setMaxUpdateBytes();
    Update.Builder big =
        Fixtures.update(base, "site-c", 20, floats(1, 1, 1, 1), floats(1, 1))
            .setRunnerVersion("x".repeat((int) limit));
    Path hostile = new HandWritten(big.build()).writeTo(updates("site-c--big.parquet"));
    long size = Files.size(hostile);
    assertTrue(size > limit);

    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).execute(),
        hostile,
        "file is "
            + size
            + " bytes, more than the limit of "
            + limit
            + " (robustness.maxUpdateBytes)");
  }

  @Test
  void smallFileWhoseColumnsDecompressOverMaxUpdateBytesIsRejected() throws Exception {
    long limit = setMaxUpdateBytes();
    Update.Builder bomb =
        Fixtures.update(base, "site-c", 20, floats(1, 1, 1, 1), floats(1, 1))
            .setRunnerVersion("x".repeat(1 << 20));
    HandWritten file = new HandWritten(bomb.build());
    file.codec = CompressionCodecName.GZIP;
    Path hostile = file.writeTo(updates("site-c--zip.parquet"));
    assertTrue(Files.size(hostile) <= limit, Files.size(hostile) + " bytes");
    long declared =
        footer(hostile).getBlocks().get(0).getColumns().stream()
            .mapToLong(ColumnChunkMetaData::getTotalUncompressedSize)
            .sum();
    assertTrue(declared > 1 << 20);

    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).execute(),
        hostile,
        "columns would decompress to "
            + declared
            + " bytes, more than the limit of "
            + limit
            + " (robustness.maxUpdateBytes)");
  }

  @Test
  void hugeCovarianceIsRejectedWhenStatisticsArePooled() throws Exception {
    ClassStatistics statistics =
        ClassStatistics.newBuilder()
            .setClassId(0)
            .setCount(20)
            .setMean(FloatArrays.asList(floats(0.5, 0.5)))
            .setVariance(FloatArrays.asList(floats(0.1, 0.1)))
            .setCovariance(FloatArrays.asList(floats(0.1, 0, 0, 0.1)))
            .build();
    Update withStatistics =
        Fixtures.update(base, "site-c", 20, floats(1, 1, 1, 1), floats(1, 1))
            .setClassStatistics(List.of(statistics))
            .build();
    HandWritten file = new HandWritten(withStatistics);
    // one class's covariance declares (and its RLE runs hold) 2^28 values; classCount * dim * dim
    // is 8
    file.override("classStatistics.covariance", (w, c) -> hugeDictionaryChunk(w, c, HUGE, HUGE));
    Path hostile = file.writeTo(updates("site-c--covariance.parquet"));
    assertTrue(Files.size(hostile) < 8 * 1024);

    Calibrator pooling =
        (round, model, parameters, pool) ->
            new Calibrator.Outcome(parameters, false, null, null, "pooled only");
    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).calibration(pooling).execute(),
        hostile,
        "field 'classStatistics.covariance' holds 268435456 values, at most 8 allowed");
  }

  @Test
  void statisticsAreNotReadWhenNotPooled() throws Exception {
    Update withStatistics =
        Fixtures.update(base, "site-c", 20, floats(1, 1, 1, 1), floats(1, 1))
            .setClassStatistics(
                List.of(
                    ClassStatistics.newBuilder()
                        .setClassId(0)
                        .setCount(20)
                        .setMean(FloatArrays.asList(floats(0.5, 0.5)))
                        .setVariance(FloatArrays.asList(floats(0.1, 0.1)))
                        .build()))
            .build();
    HandWritten file = new HandWritten(withStatistics);
    file.override("classStatistics.covariance", (w, c) -> hugeDictionaryChunk(w, c, HUGE, HUGE));
    Path accepted = file.writeTo(updates("site-c--covariance.parquet"));

    // without calibration the statistics are never decoded: site-c's parameters count (20 examples
    // of ones)
    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    float[] expected = new float[6];
    float[] c = {1, 1, 1, 1, 1, 1};
    for (int i = 0; i < 6; i++) {
      expected[i] = (float) ((GOOD_MEAN[i] * 40.0 + c[i] * 20.0) / 60.0);
    }
    assertArrayEquals(expected, Models.parameters(result.published().get(0)), 1e-6f);
    assertEquals(
        List.of("accepted", "accepted", "accepted"),
        store.readAudit(0).stream().map(UpdateAudit::getStatus).toList());
    assertTrue(Files.exists(accepted));
  }

  @Test
  void fileNamedForOneSiteHoldingAnotherSitesUpdateIsRejected() throws Exception {
    Update forged =
        Fixtures.update(base, "site-b", 30, floats(9, 9, 9, 9), floats(9, 9))
            .setUpdateId("forged")
            .setCreatedTime(Instant.parse("2100-01-01T00:00:00Z"))
            .build();
    Path hostile = new HandWritten(forged).writeTo(updates("site-a--forged.parquet"));

    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).execute(),
        hostile,
        "file name says site 'site-a', the update says site 'site-b'");
  }

  @Test
  void poisonedControlDeltaOf9999EverywhereIsRejected() throws Exception {
    float[] poison = new float[6];
    java.util.Arrays.fill(poison, 9_999f);
    Path hostile =
        Path.of(
            store
                .writeUpdate(
                    Fixtures.update(base, "site-c", 20, floats(0, 0, 0, 0), floats(0, 0))
                        .setControlDelta(FloatArrays.asList(poison))
                        .build())
                .toUri());
    double limit = 4.0 * base.getLogitScale();

    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).execute(),
        hostile,
        "controlDelta holds 9999.0 at index 0, not a finite value within "
            + limit
            + " (robustness.controlDeltaBound 4.0 x logit scale "
            + base.getLogitScale()
            + ", at most maxAbsValue 10000.0)");
  }

  @Test
  void updateFromTheYear2100DoesNotSupersedeTheSitesRealUpdate() throws Exception {
    Update future =
        Fixtures.update(base, "site-b", 30, floats(9, 9, 9, 9), floats(9, 9))
            .setUpdateId("from-2100")
            .setCreatedTime(Instant.parse("2100-01-01T00:00:00Z"))
            .build();
    Path hostile = new HandWritten(future).writeTo(updates("site-b--from-2100.parquet"));
    long now = base.getCreatedTime().toEpochMilli() + 60_000;

    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).wallClock(() -> now).execute(),
        hostile,
        "createdTime 2100-01-01T00:00:00Z lies in the future: the round job's clock says "
            + Instant.ofEpochMilli(now)
            + " and allows 300 s of clock skew (robustness.maxClockSkewSeconds)");
  }

  @Test
  void siteIdStartingWithADotIsRejected() throws Exception {
    Update dotted =
        Fixtures.update(base, ".x", 30, floats(9, 9, 9, 9), floats(9, 9))
            .setUpdateId("dot")
            .build();
    Path hostile = new HandWritten(dotted).writeTo(updates("dot-x.parquet"));

    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).execute(),
        hostile,
        "invalid site id '.x': site ids are 1-128 letters, digits, '.', '_' or '-', starting with"
            + " a letter or digit, without '--'");
  }

  @Test
  void upperCaseParquetNameIsRejectedByName() throws Exception {
    Path hostile = new HandWritten(row("site-c", 20)).writeTo(updates("UPPER.PARQUET"));

    assertRejectedNextToTheGoodOnes(
        new RoundJob(store).execute(),
        hostile,
        "not an update file: the name does not end in '.parquet' (uploads are SITE--ID.parquet)");
  }

  // ---- checks ----------------------------------------------------------------------------------

  /**
   * The round published the good updates' mean; {@code hostile} has a rejected audit row, with
   * {@code reason} when given; returns that row.
   */
  private UpdateAudit assertRejectedNextToTheGoodOnes(
      RoundResult result, Path hostile, String reason) {
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    assertArrayEquals(GOOD_MEAN, Models.parameters(result.published().get(0)), 0f);
    assertEquals(2, result.published().get(0).getParticipants());
    List<UpdateAudit> audit = store.readAudit(0);
    assertEquals(3, audit.size(), audit.toString());
    UpdateAudit bad = null;
    for (UpdateAudit row : audit) {
      if (row.getFile().equals(uri(hostile))) {
        bad = row;
      } else {
        assertEquals("accepted", row.getStatus(), row.toString());
      }
    }
    assertTrue(bad != null, "no audit row for " + uri(hostile) + " in " + audit);
    assertEquals("rejected", bad.getStatus());
    if (reason != null) {
      assertEquals(reason, bad.getReason());
    }
    assertTrue(bad.getReason() != null && !bad.getReason().isEmpty());
    return bad;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private Update row(String site, long examples) {
    return Fixtures.update(base, site, examples, floats(7, 7, 7, 7), floats(7, 7)).build();
  }

  private Path updates(String name) throws IOException {
    Path folder = Path.of(store.updatesDir(0).toUri());
    Files.createDirectories(folder);
    return folder.resolve(name);
  }

  private static String uri(Path file) {
    return new org.apache.hadoop.fs.Path(file.toUri()).toString();
  }

  /**
   * Lowers robustness.maxUpdateBytes to the size of the largest good update (at least 1024) with a
   * new spec version.
   */
  private long setMaxUpdateBytes() throws IOException {
    long limit = 1024;
    try (var files = Files.list(Path.of(store.updatesDir(0).toUri()))) {
      for (Path p : files.filter(p -> p.toString().endsWith(".parquet")).toList()) {
        limit = Math.max(limit, Files.size(p));
      }
    }
    FederationSpec current = Specs.require(store);
    Specs.write(
        store,
        Specs.next(current, "test: robustness.maxUpdateBytes=" + limit, 1L)
            .setRobustness(
                RobustnessSpec.newBuilder(current.getRobustness()).setMaxUpdateBytes(limit).build())
            .build());
    assertEquals(limit, Specs.require(store).getRobustness().getMaxUpdateBytes());
    return limit;
  }

  private static ParquetMetadata footer(Path file) throws IOException {
    try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file))) {
      return reader.getFooter();
    }
  }

  private static ColumnChunkMetaData column(ParquetMetadata footer, String field) {
    BlockMetaData block = footer.getBlocks().get(0);
    return block.getColumns().stream()
        .filter(c -> c.getPath().toArray()[0].equals(field))
        .findFirst()
        .orElseThrow();
  }

  /**
   * A float-list leaf of one row as a dictionary of one float (0.5) and one data page of {@code
   * entries} RLE_DICTIONARY entries: repetition levels 0 then the leaf's maximum, definition levels
   * all at the maximum, indices one RLE run of 0 with bit width 1. The footer declares {@code
   * declared} values.
   */
  private static void hugeDictionaryChunk(
      ParquetFileWriter writer, ColumnDescriptor column, long declared, int entries)
      throws IOException {
    ByteArrayOutputStream page = new ByteArrayOutputStream();
    int maxRepetition = column.getMaxRepetitionLevel();
    int maxDefinition = column.getMaxDefinitionLevel();
    levels(page, width(maxRepetition), new int[] {0, maxRepetition}, new long[] {1, entries - 1});
    levels(page, width(maxDefinition), new int[] {maxDefinition}, new long[] {entries});
    page.write(1); // bit width of the indices
    run(page, entries, 0, 1);
    byte[] bytes = page.toByteArray();
    writer.startColumn(column, declared, CompressionCodecName.UNCOMPRESSED);
    writer.writeDictionaryPage(
        new DictionaryPage(
            BytesInput.from(le(4).putFloat(0.5f).array()), 1, Encoding.PLAIN_DICTIONARY));
    Statistics<?> statistics = Statistics.createStats(column.getPrimitiveType());
    writer.writeDataPage(
        entries,
        bytes.length,
        BytesInput.from(bytes),
        statistics,
        Encoding.RLE,
        Encoding.RLE,
        Encoding.RLE_DICTIONARY);
    writer.endColumn();
  }

  /**
   * A float-list leaf of one row holding {@code values}, SNAPPY-compressed, whose page header says
   * {@code uncompressedSize}.
   */
  private static void snappyChunk(
      ParquetFileWriter writer, ColumnDescriptor column, float[] values, int uncompressedSize)
      throws IOException {
    ByteArrayOutputStream page = new ByteArrayOutputStream();
    int[] repetition = new int[values.length];
    Arrays.fill(repetition, column.getMaxRepetitionLevel());
    repetition[0] = 0;
    int[] definition = new int[values.length];
    Arrays.fill(definition, column.getMaxDefinitionLevel());
    HandWritten.levels(page, column.getMaxRepetitionLevel(), repetition);
    HandWritten.levels(page, column.getMaxDefinitionLevel(), definition);
    ByteBuffer plain = le(4 * values.length);
    for (float v : values) {
      plain.putFloat(v);
    }
    page.write(plain.array());
    CodecFactory codecs = new CodecFactory(new Configuration(false), 1 << 20);
    try {
      BytesInput compressed =
          BytesInput.copy(
              codecs
                  .getCompressor(CompressionCodecName.SNAPPY)
                  .compress(BytesInput.from(page.toByteArray())));
      writer.startColumn(column, values.length, CompressionCodecName.SNAPPY);
      writer.writeDataPage(
          values.length,
          uncompressedSize,
          compressed,
          Statistics.createStats(column.getPrimitiveType()),
          Encoding.RLE,
          Encoding.RLE,
          Encoding.PLAIN);
      writer.endColumn();
    } finally {
      codecs.release();
    }
  }

  /**
   * Replaces, in the footer of {@code file}, the compact-protocol varint of {@code value} by one of
   * the same length (padded with continuation bytes) holding {@code replacement}: offsets stay
   * valid.
   */
  private static void patchFooterVarint(Path file, long value, long replacement)
      throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int footerLength =
        ByteBuffer.wrap(bytes, bytes.length - 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    int footerStart = bytes.length - 8 - footerLength;
    byte[] original = varint(zigzag(value), 0);
    byte[] patched = varint(zigzag(replacement), original.length);
    int found = -1;
    for (int i = footerStart; i + original.length <= bytes.length - 8; i++) {
      if (Arrays.equals(bytes, i, i + original.length, original, 0, original.length)) {
        assertEquals(-1, found, "the value occurs once in the footer");
        found = i;
      }
    }
    assertTrue(found >= 0, "value " + value + " not in the footer");
    System.arraycopy(patched, 0, bytes, found, patched.length);
    Files.write(file, bytes);
  }

  private static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  /** Unsigned LEB128 of {@code v}, padded to {@code length} bytes when longer than needed. */
  private static byte[] varint(long v, int length) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int n = 0;
    do {
      long group = v & 0x7f;
      v >>>= 7;
      n++;
      boolean more = v != 0 || n < length;
      out.write((int) (group | (more ? 0x80 : 0)));
      if (!more) {
        break;
      }
    } while (true);
    return out.toByteArray();
  }

  private static ByteBuffer le(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static int width(int maxLevel) {
    return 32 - Integer.numberOfLeadingZeros(maxLevel);
  }

  /**
   * A level section of a v1 page (4-byte length, then RLE runs); nothing when the level is always
   * 0.
   */
  private static void levels(ByteArrayOutputStream page, int width, int[] values, long[] counts) {
    if (width == 0) {
      return;
    }
    ByteArrayOutputStream runs = new ByteArrayOutputStream();
    for (int i = 0; i < values.length; i++) {
      if (counts[i] > 0) {
        run(runs, counts[i], values[i], width);
      }
    }
    page.writeBytes(le(4).putInt(runs.size()).array());
    page.writeBytes(runs.toByteArray());
  }

  /**
   * One RLE run of the hybrid encoding: varint (count << 1), then the value in ceil(width / 8)
   * bytes.
   */
  private static void run(ByteArrayOutputStream out, long count, int value, int width) {
    out.writeBytes(varint(count << 1, 0));
    for (int i = 0; i < (width + 7) / 8; i++) {
      out.write((value >>> (8 * i)) & 0xff);
    }
  }

  /** Writes one leaf column chunk (its footer entry and pages). */
  @FunctionalInterface
  private interface Chunk {
    void write(ParquetFileWriter writer, ColumnDescriptor column) throws IOException;
  }

  /**
   * Update rows shredded by hand into the Parquet schema parquet-avro writes (Dremel levels, one
   * PLAIN page per leaf, RLE levels) and written with {@link ParquetFileWriter}; single leaves
   * (addressed by their path without the list wrappers, e.g. {@code classStatistics.covariance})
   * can be replaced by a hostile chunk.
   */
  private final class HandWritten {
    private final List<? extends IndexedRecord> rows;
    private final Map<String, Chunk> overrides = new HashMap<>();
    CompressionCodecName codec = CompressionCodecName.UNCOMPRESSED;

    HandWritten(IndexedRecord... rows) {
      this.rows = List.of(rows);
    }

    void override(String field, Chunk chunk) {
      overrides.put(field, chunk);
    }

    Path writeTo(Path file) throws IOException {
      Map<String, List<Object[]>> leaves =
          new HashMap<>(); // leaf path -> {repetition, definition, value}
      for (ColumnDescriptor c : schema.getColumns()) {
        leaves.put(String.join(".", c.getPath()), new ArrayList<>());
      }
      for (IndexedRecord row : rows) {
        for (Type field : schema.getFields()) {
          shred(
              field,
              row.get(row.getSchema().getField(field.getName()).pos()),
              0,
              0,
              0,
              field.getName(),
              leaves);
        }
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ParquetFileWriter writer =
          new ParquetFileWriter(
              new MemoryFile(out), schema, ParquetFileWriter.Mode.CREATE, 128 << 20, 0);
      writer.start();
      writer.startBlock(rows.size());
      CodecFactory codecs = new CodecFactory(new Configuration(false), 1 << 20);
      try {
        for (ColumnDescriptor c : schema.getColumns()) {
          String path = String.join(".", c.getPath());
          Chunk hostile = overrides.get(path.replace(".list.element", ""));
          if (hostile != null) {
            hostile.write(writer, c);
          } else {
            honest(writer, c, leaves.get(path), codecs);
          }
        }
      } finally {
        codecs.release();
      }
      writer.endBlock();
      writer.end(Map.of());
      Files.write(file, out.toByteArray());
      return file;
    }

    private void honest(
        ParquetFileWriter writer, ColumnDescriptor c, List<Object[]> entries, CodecFactory codecs)
        throws IOException {
      int[] repetition = new int[entries.size()];
      int[] definition = new int[entries.size()];
      ByteArrayOutputStream values = new ByteArrayOutputStream();
      for (int i = 0; i < entries.size(); i++) {
        Object[] e = entries.get(i);
        repetition[i] = (int) e[0];
        definition[i] = (int) e[1];
        if (e[2] != null) {
          values.writeBytes(plain(c.getPrimitiveType().getPrimitiveTypeName(), e[2]));
        }
      }
      ByteArrayOutputStream page = new ByteArrayOutputStream();
      levels(page, c.getMaxRepetitionLevel(), repetition);
      levels(page, c.getMaxDefinitionLevel(), definition);
      page.writeBytes(values.toByteArray());
      byte[] raw = page.toByteArray();
      BytesInput body =
          codec == CompressionCodecName.UNCOMPRESSED
              ? BytesInput.from(raw)
              : BytesInput.copy(codecs.getCompressor(codec).compress(BytesInput.from(raw)));
      writer.startColumn(c, entries.size(), codec);
      writer.writeDataPage(
          entries.size(),
          raw.length,
          body,
          Statistics.createStats(c.getPrimitiveType()),
          Encoding.RLE,
          Encoding.RLE,
          Encoding.PLAIN);
      writer.endColumn();
    }

    static void levels(ByteArrayOutputStream page, int maxLevel, int[] levels) {
      List<Integer> values = new ArrayList<>();
      List<Long> counts = new ArrayList<>();
      for (int level : levels) {
        if (!values.isEmpty() && values.get(values.size() - 1) == level) {
          counts.set(counts.size() - 1, counts.get(counts.size() - 1) + 1);
        } else {
          values.add(level);
          counts.add(1L);
        }
      }
      UpdateFilesAttackTest.levels(
          page,
          width(maxLevel),
          values.stream().mapToInt(Integer::intValue).toArray(),
          counts.stream().mapToLong(Long::longValue).toArray());
    }

    private byte[] plain(PrimitiveType.PrimitiveTypeName type, Object value) {
      return switch (type) {
        case INT32 -> le(4).putInt(((Number) value).intValue()).array();
        case INT64 ->
            le(8)
                .putLong(
                    value instanceof Instant t ? t.toEpochMilli() : ((Number) value).longValue())
                .array();
        case FLOAT -> le(4).putFloat(((Number) value).floatValue()).array();
        case DOUBLE -> le(8).putDouble(((Number) value).doubleValue()).array();
        case BINARY -> {
          byte[] text = value.toString().getBytes(StandardCharsets.UTF_8);
          yield le(4 + text.length).putInt(text.length).put(text).array();
        }
        default -> throw new IllegalArgumentException("no " + type + " in an update");
      };
    }

    /**
     * Appends {@code value} of {@code type} to its leaves: {@code r} and {@code d} are the
     * repetition and definition levels so far, {@code depth} the number of repeated ancestors.
     */
    private void shred(
        Type type,
        Object value,
        int r,
        int d,
        int depth,
        String path,
        Map<String, List<Object[]>> leaves) {
      if (value == null) {
        nulls(type, r, d, path, leaves);
        return;
      }
      int defined = d + (type.isRepetition(Type.Repetition.OPTIONAL) ? 1 : 0);
      if (type.isPrimitive()) {
        leaves.get(path).add(new Object[] {r, defined, value});
        return;
      }
      GroupType group = type.asGroupType();
      if (group.getLogicalTypeAnnotation()
          instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation) {
        GroupType repeated = group.getType(0).asGroupType();
        Type element = repeated.getType(0);
        String elementPath = path + "." + repeated.getName() + "." + element.getName();
        List<?> items = (List<?>) value;
        if (items.isEmpty()) {
          nulls(repeated, r, defined, path + "." + repeated.getName(), leaves);
        }
        for (int i = 0; i < items.size(); i++) {
          shred(
              element,
              items.get(i),
              i == 0 ? r : depth + 1,
              defined + 1,
              depth + 1,
              elementPath,
              leaves);
        }
        return;
      }
      IndexedRecord record = (IndexedRecord) value;
      for (Type field : group.getFields()) {
        shred(
            field,
            record.get(record.getSchema().getField(field.getName()).pos()),
            r,
            defined,
            depth,
            path + "." + field.getName(),
            leaves);
      }
    }

    private void nulls(Type type, int r, int d, String path, Map<String, List<Object[]>> leaves) {
      if (type.isPrimitive()) {
        leaves.get(path).add(new Object[] {r, d, null});
        return;
      }
      for (Type field : type.asGroupType().getFields()) {
        nulls(field, r, d, path + "." + field.getName(), leaves);
      }
    }
  }

  /**
   * An {@link OutputFile} in memory, so a test can patch bytes without checksum files in the way.
   */
  private static final class MemoryFile implements OutputFile {
    private final ByteArrayOutputStream bytes;

    MemoryFile(ByteArrayOutputStream bytes) {
      this.bytes = bytes;
    }

    @Override
    public PositionOutputStream create(long blockSizeHint) {
      return new PositionOutputStream() {
        @Override
        public long getPos() {
          return bytes.size();
        }

        @Override
        public void write(int b) {
          bytes.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
          bytes.write(b, off, len);
        }
      };
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSizeHint) {
      return create(blockSizeHint);
    }

    @Override
    public boolean supportsBlockSize() {
      return false;
    }

    @Override
    public long defaultBlockSize() {
      return 0;
    }
  }
}
