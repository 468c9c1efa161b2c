package fedlake.core.columnar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import fedlake.core.Fixtures;
import fedlake.schema.Update;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.avro.AvroWriteSupport;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.format.ColumnMetaData;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.PageHeader;
import org.apache.parquet.format.RowGroup;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The field-by-field footer and page header decoders ({@link Footer}, {@link PageHeaderFields})
 * against Thrift's generated decoder on files from several writer settings, and on broken bytes.
 */
class FooterTest {
  @TempDir Path dir;

  private record Written(byte[] bytes, int footerAt, int footerLength) {}

  /** An update written by parquet-avro with the given settings. */
  private Written write(
      String name,
      CompressionCodecName codec,
      boolean dictionary,
      boolean statistics,
      ParquetProperties.WriterVersion version,
      Map<String, String> metadata)
      throws IOException {
    Update update =
        Fixtures.update(
                Fixtures.zeroModel(4, 2),
                "site-" + name,
                17L,
                Fixtures.floats(1, 2.5, -3, 4, 4, 4, 4, 4),
                Fixtures.floats(0.5, -0.5))
            .build();
    Path file = dir.resolve(name + ".parquet");
    Configuration conf = new Configuration(false);
    conf.setBoolean(AvroWriteSupport.WRITE_OLD_LIST_STRUCTURE, false);
    AvroParquetWriter.Builder<Update> builder =
        AvroParquetWriter.<Update>builder(new LocalOutputFile(file))
            .withSchema(Update.getClassSchema())
            .withConf(conf)
            .withCompressionCodec(codec)
            .withDictionaryEncoding(dictionary)
            .withStatisticsEnabled(statistics)
            .withWriterVersion(version)
            .withExtraMetaData(metadata);
    try (ParquetWriter<Update> writer = builder.build()) {
      writer.write(update);
    }
    return written(file);
  }

  /** A Parquet file's bytes and where its footer lies. */
  private static Written written(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int n = bytes.length;
    int size =
        (bytes[n - 8] & 0xff)
            | (bytes[n - 7] & 0xff) << 8
            | (bytes[n - 6] & 0xff) << 16
            | (bytes[n - 5] & 0xff) << 24;
    return new Written(bytes, n - 8 - size, size);
  }

  private List<Written> files() throws IOException {
    List<Written> files = new ArrayList<>();
    files.add(
        write(
            "plain",
            CompressionCodecName.UNCOMPRESSED,
            false,
            false,
            ParquetProperties.WriterVersion.PARQUET_1_0,
            Map.of()));
    files.add(
        write(
            "snappy",
            CompressionCodecName.SNAPPY,
            true,
            true,
            ParquetProperties.WriterVersion.PARQUET_1_0,
            Map.of("origin", "x".repeat(5000))));
    files.add(
        write(
            "v2",
            CompressionCodecName.GZIP,
            true,
            true,
            ParquetProperties.WriterVersion.PARQUET_2_0,
            Map.of()));
    files.add(
        write(
            "v2-plain",
            CompressionCodecName.UNCOMPRESSED,
            false,
            true,
            ParquetProperties.WriterVersion.PARQUET_2_0,
            Map.of()));
    return files;
  }

  private static FileMetaData thrift(Written w) throws Exception {
    FileMetaData metadata = new FileMetaData();
    assertEquals(
        w.footerLength(), ThriftBytes.read(metadata, w.bytes(), w.footerAt(), w.footerLength()));
    return metadata;
  }

  @Test
  void decodesWhatThriftDecodesForEveryWriterSetting() throws Exception {
    // decoded in turn, so each file's column paths differ from the last one's in places
    List<Written> files = files();
    for (int pass = 0; pass < 2; pass++) {
      for (Written w : files) {
        FileMetaData expected = thrift(w);
        Footer footer = Footer.decode(w.bytes(), w.footerAt(), w.footerLength(), null);
        assertEquals(expected.getCreated_by(), footer.createdBy);
        assertEquals(expected.getRow_groups().size(), footer.rowGroups.size());
        for (int g = 0; g < footer.rowGroups.size(); g++) {
          RowGroup want = expected.getRow_groups().get(g);
          Footer.Group got = footer.rowGroups.get(g);
          assertEquals(want.getNum_rows(), got.rows());
          assertEquals(want.getColumns().size(), got.columns().size());
          for (int c = 0; c < want.getColumns().size(); c++) {
            ColumnMetaData a = want.getColumns().get(c).getMeta_data();
            Footer.Chunk b = got.columns().get(c);
            assertEquals(a.getPath_in_schema(), b.path());
            assertEquals(a.getType(), b.type());
            assertEquals(a.getCodec(), b.codec());
            assertEquals(a.getNum_values(), b.values());
            assertEquals(a.getTotal_uncompressed_size(), b.uncompressed());
            assertEquals(a.getTotal_compressed_size(), b.compressed());
            assertEquals(a.getData_page_offset(), b.dataPageOffset());
            assertEquals(
                a.isSetDictionary_page_offset() ? a.getDictionary_page_offset() : -1,
                b.dictionaryPageOffset());
            pagesMatch(w, a);
          }
        }
        // the schema's bytes: a list of exactly the schema's elements, ending where the footer's
        // next field begins
        CompactBytes schema =
            new CompactBytes(w.bytes(), footer.schemaStart, footer.schemaEnd - footer.schemaStart);
        assertEquals(expected.getSchema().size(), schema.listHeader());
        for (int i = 0; i < expected.getSchema().size(); i++) {
          schema.skip(CompactBytes.STRUCT, 0);
        }
        assertEquals(footer.schemaEnd, schema.position());
        // stepping over a known schema gives the same footer
        byte[] known = Arrays.copyOfRange(w.bytes(), footer.schemaStart, footer.schemaEnd);
        Footer again = Footer.decode(w.bytes(), w.footerAt(), w.footerLength(), known);
        assertEquals(footer.schemaEnd, again.schemaEnd);
        assertEquals(footer.rowGroups, again.rowGroups);
      }
    }
  }

  /** Every page of the chunk: the same fields as Thrift's page header, and the same length. */
  private static void pagesMatch(Written w, ColumnMetaData chunk) throws Exception {
    long start =
        chunk.isSetDictionary_page_offset() && chunk.getDictionary_page_offset() > 0
            ? Math.min(chunk.getDictionary_page_offset(), chunk.getData_page_offset())
            : chunk.getData_page_offset();
    int position = (int) start;
    int end = (int) (start + chunk.getTotal_compressed_size());
    int pages = 0;
    while (position < end) {
      PageHeader want = new PageHeader();
      int length = ThriftBytes.read(want, w.bytes(), position, end - position);
      PageHeaderFields got = PageHeaderFields.decode(w.bytes(), position, end - position);
      assertEquals(length, got.length);
      assertEquals(want.getType(), got.type);
      assertEquals(want.getUncompressed_page_size(), got.uncompressedSize);
      assertEquals(want.getCompressed_page_size(), got.compressedSize);
      switch (want.getType()) {
        case DATA_PAGE -> {
          assertEquals(want.getData_page_header().getNum_values(), got.values);
          assertEquals(want.getData_page_header().getEncoding().getValue(), got.encoding);
          assertEquals(
              want.getData_page_header().getDefinition_level_encoding().getValue(),
              got.definitionEncoding);
          assertEquals(
              want.getData_page_header().getRepetition_level_encoding().getValue(),
              got.repetitionEncoding);
        }
        case DATA_PAGE_V2 -> {
          var h = want.getData_page_header_v2();
          assertEquals(h.getNum_values(), got.values);
          assertEquals(h.getNum_nulls(), got.nulls);
          assertEquals(h.getNum_rows(), got.rows);
          assertEquals(h.getEncoding().getValue(), got.encoding);
          assertEquals(h.getDefinition_levels_byte_length(), got.definitionBytes);
          assertEquals(h.getRepetition_levels_byte_length(), got.repetitionBytes);
        }
        case DICTIONARY_PAGE -> {
          assertEquals(want.getDictionary_page_header().getNum_values(), got.values);
          assertEquals(want.getDictionary_page_header().getEncoding().getValue(), got.encoding);
        }
        default -> fail("unexpected page " + want.getType());
      }
      position += length + want.getCompressed_page_size();
      pages++;
    }
    assertEquals(end, position);
    assertTrue(pages > 0);
  }

  @Test
  void valuesOfEveryWriterSettingReadBackInPlace() throws Exception {
    org.apache.hadoop.fs.FileSystem fs = new org.apache.hadoop.fs.RawLocalFileSystem();
    fs.initialize(java.net.URI.create("file:///"), new Configuration(false));
    for (String name : List.of("plain", "snappy", "v2", "v2-plain")) {
      Path file = dir.resolve(name + ".parquet");
      if (!Files.exists(file)) {
        files();
      }
      try (ColumnarFile columns =
          ColumnarFile.open(file.toUri().toString(), Files.size(file), fs)) {
        columns.load(List.of("weights", "bias", "numExamples", "site"));
        float[] weights = new float[8];
        assertEquals(8, columns.floats("weights", weights, 0, 8));
        assertArrayEquals(new float[] {1, 2.5f, -3, 4, 4, 4, 4, 4}, weights, name);
        float[] bias = new float[2];
        assertEquals(2, columns.floats("bias", bias, 0, 2));
        assertArrayEquals(new float[] {0.5f, -0.5f}, bias, name);
        assertEquals(17L, columns.longValue("numExamples"), name);
        assertEquals("site-" + name, columns.string("site", 100), name);
      }
    }
  }

  /** A one-row file of one field {@code a}: a float, or a list of floats. */
  private Written generic(String name, boolean list) throws IOException {
    org.apache.avro.Schema schema =
        org.apache.avro.SchemaBuilder.record("R")
            .fields()
            .name("a")
            .type(
                list
                    ? org.apache.avro.Schema.createArray(
                        org.apache.avro.Schema.create(org.apache.avro.Schema.Type.FLOAT))
                    : org.apache.avro.Schema.create(org.apache.avro.Schema.Type.FLOAT))
            .noDefault()
            .endRecord();
    org.apache.avro.generic.GenericRecord row =
        new org.apache.avro.generic.GenericData.Record(schema);
    row.put("a", list ? List.of(1f, 2f) : 1f);
    Path file = dir.resolve(name + ".parquet");
    Configuration conf = new Configuration(false);
    conf.setBoolean(AvroWriteSupport.WRITE_OLD_LIST_STRUCTURE, false);
    try (ParquetWriter<org.apache.avro.generic.GenericRecord> writer =
        AvroParquetWriter.<org.apache.avro.generic.GenericRecord>builder(new LocalOutputFile(file))
            .withSchema(schema)
            .withConf(conf)
            .build()) {
      writer.write(row);
    }
    return written(file);
  }

  @Test
  void aPathIsReusedOnlyWhenItIsTheSame() throws Exception {
    // column 0 is [a] in one file and [a, list, element] in the other: the same first bytes
    Written scalar = generic("scalar", false);
    Written list = generic("list", true);
    for (Written w : List.of(scalar, list, scalar, scalar, list, list)) {
      Footer footer = Footer.decode(w.bytes(), w.footerAt(), w.footerLength(), null);
      assertEquals(
          thrift(w).getRow_groups().get(0).getColumns().get(0).getMeta_data().getPath_in_schema(),
          footer.rowGroups.get(0).columns().get(0).path());
    }
    assertEquals(
        List.of("a", "list", "element"),
        Footer.decode(list.bytes(), list.footerAt(), list.footerLength(), null)
            .rowGroups
            .get(0)
            .columns()
            .get(0)
            .path());
  }

  @Test
  void brokenFootersFailWithAReasonAndNothingElse() throws Exception {
    Written w = files().get(1);
    byte[] footer = Arrays.copyOfRange(w.bytes(), w.footerAt(), w.footerAt() + w.footerLength());
    // every truncation
    for (int length = 0; length < footer.length; length += 7) {
      int cut = length;
      assertThrows(IllegalStateException.class, () -> Footer.decode(footer, 0, cut, null));
    }
    // changed bytes: decoded or refused with IllegalStateException, never anything else
    Random random = new Random(11);
    int refused = 0;
    for (int trial = 0; trial < 3000; trial++) {
      byte[] changed = footer.clone();
      for (int k = 0; k <= trial % 3; k++) {
        changed[random.nextInt(changed.length)] = (byte) random.nextInt(256);
      }
      try {
        Footer.decode(changed, 0, changed.length, null);
      } catch (IllegalStateException expected) {
        refused++;
      }
    }
    assertTrue(refused > 100, "most random changes break the footer: " + refused);
    // field 1 as a list whose header (0xff: a long size, elements of type 15) declares 2^24 - 1
    // elements in 0 bytes: refused before anything is built
    byte[] huge = {0x19, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> Footer.decode(huge, 0, huge.length, null));
    assertEquals("a list declares 16777215 elements where 0 bytes are left", e.getMessage());
  }

  @Test
  void deepNestingIsRefused() {
    // field 7 (column_orders, skipped) as a structure holding a structure holding ... 40 deep
    byte[] nested = new byte[41];
    nested[0] = 0x7c;
    Arrays.fill(nested, 1, 41, (byte) 0x1c);
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> Footer.decode(nested, 0, nested.length, null));
    assertEquals("nested deeper than 32", e.getMessage());
  }

  @Test
  void pageHeaderWithoutItsDetailsIsRefused() {
    // type DATA_PAGE (0), sizes 4 and 4, no data_page_header
    byte[] header = {0x15, 0x00, 0x15, 0x08, 0x15, 0x08, 0x00};
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> PageHeaderFields.decode(header, 0, header.length));
    assertEquals("a DATA_PAGE page header lacks its details", e.getMessage());
  }
}
