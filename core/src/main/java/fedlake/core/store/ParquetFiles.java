package fedlake.core.store;

import fedlake.core.InvalidInputException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.avro.AvroReadSupport;
import org.apache.parquet.avro.AvroWriteSupport;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/** Reads and writes Avro records as Parquet files through the Hadoop FileSystem API. */
public final class ParquetFiles {
  private ParquetFiles() {}

  /** Writes {@code records} to {@code path} (overwriting it); not atomic, see {@link Store}. */
  public static <T extends SpecificRecord> void write(
      Path path, Configuration conf, Schema schema, Iterable<T> records) throws IOException {
    write(path, conf, schema, records, java.util.Map.of());
  }

  /**
   * As {@link #write(Path, Configuration, Schema, Iterable)}, with key-value metadata in the file
   * footer.
   */
  public static <T extends SpecificRecord> void write(
      Path path,
      Configuration conf,
      Schema schema,
      Iterable<T> records,
      java.util.Map<String, String> footer)
      throws IOException {
    // Snappy without dictionaries: on a 10,000-row audit 16 ms of CPU and 341 KB against 31-55 ms
    // and 301 KB with dictionaries (Snappy finds the repeated strings as well)
    write(path, conf, schema, records, footer, CompressionCodecName.SNAPPY, false);
  }

  /**
   * Writes records of mostly float parameters: uncompressed and without dictionaries, since trained
   * floats do not compress (Snappy saved nothing on update files) and plain pages are read in bulk;
   * without column statistics, which would be most of the footer the round job parses.
   */
  public static <T extends SpecificRecord> void writePlain(
      Path path, Configuration conf, Schema schema, Iterable<T> records) throws IOException {
    write(
        path, conf, schema, records, java.util.Map.of(), CompressionCodecName.UNCOMPRESSED, false);
  }

  /**
   * As {@link #writePlain(Path, Configuration, Schema, Iterable)} straight to a local file, without
   * the Hadoop file system (which starts a chmod process a file when it has no native library): the
   * same bytes, for tools that write many files, such as benchmarks.
   */
  public static <T extends SpecificRecord> void writePlain(
      java.nio.file.Path path, Schema schema, Iterable<T> records) throws IOException {
    writeLocal(
        path,
        schema,
        records,
        CompressionCodecName.UNCOMPRESSED,
        false,
        ParquetWriter.DEFAULT_PAGE_SIZE);
  }

  /**
   * Writes {@code records} straight to a local file with {@code codec}, dictionaries and statistics
   * when {@code dictionary} (parquet-avro's defaults), and pages of about {@code pageSize} bytes:
   * the forms other writers produce, for benchmarks and tests.
   */
  public static <T extends SpecificRecord> void writeLocal(
      java.nio.file.Path path,
      Schema schema,
      Iterable<T> records,
      CompressionCodecName codec,
      boolean dictionary,
      int pageSize)
      throws IOException {
    Configuration conf = new Configuration(false);
    conf.setBoolean(AvroWriteSupport.WRITE_OLD_LIST_STRUCTURE, false);
    write(
        new org.apache.parquet.io.LocalOutputFile(path),
        conf,
        schema,
        records,
        java.util.Map.of(),
        codec,
        dictionary,
        pageSize);
  }

  private static <T extends SpecificRecord> void write(
      Path path,
      Configuration conf,
      Schema schema,
      Iterable<T> records,
      java.util.Map<String, String> footer,
      CompressionCodecName codec,
      boolean dictionary)
      throws IOException {
    Configuration writeConf = new Configuration(conf);
    writeConf.setBoolean(AvroWriteSupport.WRITE_OLD_LIST_STRUCTURE, false);
    write(
        new StoreOutputFile(Store.fileSystem(path.toString(), writeConf), path),
        writeConf,
        schema,
        records,
        footer,
        codec,
        dictionary,
        ParquetWriter.DEFAULT_PAGE_SIZE);
  }

  private static <T extends SpecificRecord> void write(
      org.apache.parquet.io.OutputFile file,
      Configuration writeConf,
      Schema schema,
      Iterable<T> records,
      java.util.Map<String, String> footer,
      CompressionCodecName codec,
      boolean dictionary,
      int pageSize)
      throws IOException {
    try (ParquetWriter<T> writer =
        AvroParquetWriter.<T>builder(file)
            .withSchema(schema)
            .withDataModel(SpecificData.getForSchema(schema))
            .withConf(writeConf)
            .withCompressionCodec(codec)
            .withDictionaryEncoding(dictionary)
            .withPageSize(pageSize)
            .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
            .withExtraMetaData(footer)
            // plain files (updates) are read by the round job, not queried: no min/max or size
            // statistics, which are most of a footer's bytes and of the time to parse it
            .withStatisticsEnabled(dictionary)
            .withSizeStatisticsEnabled(dictionary)
            .build()) {
      for (T record : records) {
        writer.write(record);
      }
    }
  }

  /**
   * Reads every record of {@code path} as {@code schema}'s class. A file that is not Parquet, is
   * truncated or does not fit the schema raises {@link InvalidInputException} naming the file.
   */
  public static <T extends SpecificRecord> List<T> read(
      Path path, Configuration conf, Schema schema) {
    return read(path, conf, schema, null);
  }

  /**
   * As {@link #read(Path, Configuration, Schema)}, decoding only the columns of {@code projection}
   * (a part of the file's schema); the fields of {@code schema} outside it get their defaults.
   */
  public static <T extends SpecificRecord> List<T> read(
      Path path, Configuration conf, Schema schema, Schema projection) {
    Configuration readConf = new Configuration(conf);
    AvroReadSupport.setAvroReadSchema(readConf, schema);
    if (projection != null) {
      // the projection is matched against the file's columns in the list layout fedlake writes
      readConf.setBoolean(AvroWriteSupport.WRITE_OLD_LIST_STRUCTURE, false);
      AvroReadSupport.setRequestedProjection(readConf, projection);
    }
    AvroReadSupport.setAvroDataSupplier(
        readConf, org.apache.parquet.avro.SpecificDataSupplier.class);
    List<T> records = new ArrayList<>();
    try (ParquetReader<T> reader =
        AvroParquetReader.<T>builder(HadoopInputFile.fromPath(path, readConf))
            .withDataModel(SpecificData.getForSchema(schema))
            .withConf(readConf)
            .build()) {
      for (T record = reader.read(); record != null; record = reader.read()) {
        records.add(record);
      }
    } catch (InvalidInputException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(path.toString(), describe(e), e);
    }
    return records;
  }

  /** The key-value metadata of a Parquet file's footer. */
  public static java.util.Map<String, String> footer(Path path, Configuration conf) {
    try (org.apache.parquet.hadoop.ParquetFileReader reader =
        org.apache.parquet.hadoop.ParquetFileReader.open(HadoopInputFile.fromPath(path, conf))) {
      return reader.getFooter().getFileMetaData().getKeyValueMetaData();
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(path.toString(), describe(e), e);
    }
  }

  private static String describe(Throwable e) {
    String text = e.getMessage();
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (text != null && text.contains("is not a Parquet file")) {
      return "not a readable Parquet file: truncated or corrupt (no valid footer)";
    }
    String rootText =
        root == e ? "" : "; cause: " + root.getClass().getSimpleName() + ": " + root.getMessage();
    return "cannot read as Parquet (" + e.getClass().getSimpleName() + ": " + text + rootText + ")";
  }
}
