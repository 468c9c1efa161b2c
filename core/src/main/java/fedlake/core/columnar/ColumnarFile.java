package fedlake.core.columnar;

import fedlake.core.InvalidInputException;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.VersionParser;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnReader;
import org.apache.parquet.column.impl.ColumnReadStoreImpl;
import org.apache.parquet.column.impl.ColumnReaderImpl;
import org.apache.parquet.column.page.DataPage;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.column.page.PageReader;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.converter.ParquetMetadataConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.hadoop.util.HadoopCodecs;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.Converter;
import org.apache.parquet.io.api.GroupConverter;
import org.apache.parquet.io.api.PrimitiveConverter;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;
import shaded.parquet.org.apache.thrift.TException;

/**
 * One row of a Parquet file read column by column into primitive arrays, without a record object or
 * a boxed value per number. Everything that sizes the read (row count, value count and uncompressed
 * size of every column) comes from the footer and is checked by the caller before any page is
 * decoded, so a small file cannot make the reader allocate more than the caller allowed.
 *
 * <p>Top-level fields are addressed by name. A field is either a primitive or a list of primitives
 * (any list layout a Parquet writer uses: parquet-avro's, Arrow's or Spark's), or, for {@link
 * #floatLists}, a list of records holding lists.
 */
public final class ColumnarFile implements Closeable {
  private static final Configuration CODEC_CONF = new Configuration();
  private static final PlainParquetConfiguration PLAIN = new PlainParquetConfiguration();

  /**
   * One codec factory a thread, kept for the thread's life: decompressors are pooled, never
   * released per file.
   */
  private static final ThreadLocal<CompressionCodecFactory> CODECS =
      ThreadLocal.withInitial(() -> HadoopCodecs.newFactory(CODEC_CONF, 0));

  private static final ParquetMetadataConverter CONVERTER = new ParquetMetadataConverter();

  private final String file;
  private final StoreInputFile input;
  private final ParquetReadOptions options;
  private final ParquetMetadata footer;
  private ParquetFileReader reader; // Parquet's reader, opened only for compressed chunks
  private final BlockMetaData block;
  private final MessageType schema;
  private final Map<String, List<ColumnDescriptor>> leavesByField = new HashMap<>();
  private final Map<String, ColumnChunkMetaData> chunks = new HashMap<>();
  private ColumnReadStoreImpl columns;
  private PageReadStore pages;
  private VersionParser.ParsedVersion writerVersion;
  private final PooledBuffers buffers;

  private ColumnarFile(
      String file,
      StoreInputFile input,
      ParquetReadOptions options,
      ParquetMetadata footer,
      ParquetFileReader reader,
      BoundedCodecs codecs,
      PooledBuffers buffers) {
    this.file = file;
    this.input = input;
    this.options = options;
    this.footer = footer;
    this.reader = reader;
    this.buffers = buffers;
    this.schema = footer.getFileMetaData().getSchema();
    List<BlockMetaData> blocks = footer.getBlocks();
    long rows = 0;
    BlockMetaData withRow = null;
    for (BlockMetaData b : blocks) {
      rows += b.getRowCount();
      if (b.getRowCount() > 0) {
        withRow = b;
      }
    }
    if (rows != 1) {
      throw new InvalidInputException(
          file, "holds " + rows + " rows; an update file holds exactly one");
    }
    this.block = withRow;
    for (ColumnDescriptor c : schema.getColumns()) {
      leavesByField.computeIfAbsent(c.getPath()[0], k -> new ArrayList<>()).add(c);
    }
    for (ColumnChunkMetaData chunk : block.getColumns()) {
      chunks.put(chunk.getPath().toDotString(), chunk);
    }
    codecs.limit = declaredBytes();
  }

  /**
   * Opens {@code path} ({@code bytes} long, as listed) and reads its footer only. A file that is
   * not Parquet or does not hold exactly one row raises {@link InvalidInputException}.
   */
  public static ColumnarFile open(String path, long bytes, FileSystem fs) {
    Path p = new Path(path);
    ParquetFileReader reader = null;
    PooledBuffers buffers = new PooledBuffers();
    try {
      BoundedCodecs codecs = new BoundedCodecs(path, CODECS.get());
      // a plain configuration: building read options over a new Hadoop Configuration costs
      // milliseconds a file
      ParquetReadOptions options =
          ParquetReadOptions.builder(PLAIN).withCodecFactory(codecs).withAllocator(buffers).build();
      StoreInputFile input = new StoreInputFile(fs, p, bytes);
      ParquetMetadata footer;
      if (input.whole() != null) {
        footer = footer(path, input.whole(), (int) bytes);
      } else {
        reader = ParquetFileReader.open(input, options);
        footer = reader.getFooter();
      }
      return new ColumnarFile(path, input, options, footer, reader, codecs, buffers);
    } catch (InvalidInputException e) {
      closeQuietly(reader);
      buffers.close();
      throw e;
    } catch (IOException | RuntimeException e) {
      closeQuietly(reader);
      buffers.close();
      String text = String.valueOf(e.getMessage());
      throw new InvalidInputException(
          path,
          text.contains("is not a Parquet file")
              ? "not a readable Parquet file: truncated or corrupt (no valid footer)"
              : "cannot read the Parquet footer ("
                  + e.getClass().getSimpleName()
                  + ": "
                  + text
                  + ")",
          e);
    }
  }

  /**
   * The footer of a file held whole in memory, decoded in place; the same checks and messages as
   * Parquet's reader.
   */
  private static ParquetMetadata footer(String path, byte[] bytes, int length) throws IOException {
    if (length < 12 || !magic(bytes, 0) || !magic(bytes, length - 4)) {
      throw new InvalidInputException(
          path, "not a readable Parquet file: truncated or corrupt (no valid footer)");
    }
    int size =
        (bytes[length - 8] & 0xff)
            | (bytes[length - 7] & 0xff) << 8
            | (bytes[length - 6] & 0xff) << 16
            | (bytes[length - 5] & 0xff) << 24;
    if (size <= 0 || size > length - 12) {
      throw new InvalidInputException(
          path,
          "not a readable Parquet file: its footer length "
              + size
              + " does not fit its "
              + length
              + " bytes");
    }
    FileMetaData metadata = new FileMetaData();
    try {
      ThriftBytes.read(metadata, bytes, length - 8 - size, size);
    } catch (TException e) {
      throw new IOException("cannot decode the footer: " + e.getMessage(), e);
    }
    // no row-group offsets: Parquet's own reader hashes every row group to look them up
    return CONVERTER.fromParquetMetadata(metadata, null, false, new HashMap<>());
  }

  private static boolean magic(byte[] bytes, int at) {
    return bytes[at] == 'P' && bytes[at + 1] == 'A' && bytes[at + 2] == 'R' && bytes[at + 3] == '1';
  }

  private ParquetFileReader reader() throws IOException {
    if (reader == null) {
      reader = ParquetFileReader.open(input, options);
    }
    return reader;
  }

  private static void closeQuietly(Closeable c) {
    if (c != null) {
      try {
        c.close();
      } catch (IOException ignored) {
        // already failing
      }
    }
  }

  public String file() {
    return file;
  }

  /** Whether the file has a top-level field called {@code name}. */
  public boolean has(String name) {
    return leavesByField.containsKey(name);
  }

  /**
   * Number of values (levels, counting empty and null entries) the footer declares for the leaves
   * of {@code field}.
   */
  public long declaredValues(String field) {
    long total = 0;
    for (ColumnDescriptor c : leaves(field)) {
      total += chunk(c).getValueCount();
    }
    return total;
  }

  /** Uncompressed bytes the footer declares for the leaves of {@code field}. */
  public long declaredBytes(String field) {
    long total = 0;
    for (ColumnDescriptor c : leaves(field)) {
      total += chunk(c).getTotalUncompressedSize();
    }
    return total;
  }

  /** Uncompressed bytes the footer declares for every column of the row. */
  public long declaredBytes() {
    long total = 0;
    for (ColumnChunkMetaData c : block.getColumns()) {
      total += c.getTotalUncompressedSize();
    }
    return total;
  }

  private List<ColumnDescriptor> leaves(String field) {
    List<ColumnDescriptor> leaves = leavesByField.get(field);
    if (leaves == null) {
      throw new InvalidInputException(file, "has no field '" + field + "'");
    }
    return leaves;
  }

  private ColumnChunkMetaData chunk(ColumnDescriptor c) {
    ColumnChunkMetaData chunk = chunks.get(String.join(".", c.getPath()));
    if (chunk == null) {
      throw new InvalidInputException(
          file, "has no column chunk for " + String.join(".", c.getPath()));
    }
    return chunk;
  }

  /**
   * Reads the column chunks of {@code fields} (and nothing else) into memory; call once, after the
   * footer checks, before reading values.
   */
  public void load(List<String> fields) {
    List<Type> projected = new ArrayList<>();
    for (String field : fields) {
      if (has(field)) {
        projected.add(schema.getType(field));
      }
    }
    MessageType projection = new MessageType(schema.getName(), projected);
    try {
      PageReadStore pages = direct(projection);
      if (pages == null) {
        ParquetFileReader parquet = reader();
        parquet.setRequestedSchema(projection);
        List<BlockMetaData> blocks = parquet.getFooter().getBlocks();
        for (int i = 0; i < blocks.size(); i++) {
          PageReadStore read = parquet.readNextRowGroup();
          if (blocks.get(i).getRowCount() > 0) {
            pages = read;
            break;
          }
        }
      }
      if (pages == null) {
        throw new InvalidInputException(file, "its row could not be read");
      }
      String createdBy = footer.getFileMetaData().getCreatedBy();
      this.pages = pages;
      try {
        writerVersion = VersionParser.parse(createdBy);
      } catch (VersionParser.VersionParseException | RuntimeException e) {
        writerVersion = null;
      }
      columns = new ColumnReadStoreImpl(pages, new NoConverter(projection), projection, createdBy);
    } catch (IOException | RuntimeException e) {
      if (e instanceof InvalidInputException invalid) {
        throw invalid;
      }
      throw new InvalidInputException(
          file,
          "cannot read its columns (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")",
          e);
    }
  }

  /**
   * The projected columns' pages straight from the file in memory, or null when the file was not
   * read whole or a chunk is compressed (Parquet's reader does those).
   */
  private PageReadStore direct(MessageType projection) {
    byte[] bytes = input.whole();
    if (bytes == null) {
      return null;
    }
    List<ColumnDescriptor> wanted = projection.getColumns();
    for (ColumnDescriptor c : wanted) {
      if (!DirectPages.covers(chunk(c))) {
        return null;
      }
    }
    DirectPages pages = new DirectPages();
    try {
      for (ColumnDescriptor c : wanted) {
        pages.add(c, chunk(c), bytes, (int) input.getLength());
      }
    } catch (IllegalStateException e) {
      throw new InvalidInputException(file, e.getMessage(), e);
    }
    return pages;
  }

  private ColumnReader column(String field, PrimitiveType.PrimitiveTypeName... types) {
    List<ColumnDescriptor> leaves = leaves(field);
    if (leaves.size() != 1) {
      throw new InvalidInputException(
          file, "field '" + field + "' has " + leaves.size() + " columns, expected one");
    }
    ColumnDescriptor descriptor = leaves.get(0);
    PrimitiveType.PrimitiveTypeName actual = descriptor.getPrimitiveType().getPrimitiveTypeName();
    for (PrimitiveType.PrimitiveTypeName t : types) {
      if (t == actual) {
        return columns.getColumnReader(descriptor);
      }
    }
    throw new InvalidInputException(
        file,
        "field '" + field + "' is " + actual + ", expected " + java.util.Arrays.toString(types));
  }

  private ColumnReader leafColumn(
      ColumnDescriptor descriptor, PrimitiveType.PrimitiveTypeName type, String name) {
    if (descriptor.getPrimitiveType().getPrimitiveTypeName() != type) {
      throw new InvalidInputException(
          file,
          "field '"
              + name
              + "' is "
              + descriptor.getPrimitiveType().getPrimitiveTypeName()
              + ", expected "
              + type);
    }
    return columns.getColumnReader(descriptor);
  }

  /**
   * The non-null floats of {@code field} (a float or a list of floats) written into {@code into}
   * from {@code offset}; returns how many. More values than {@code capacity} raise {@link
   * InvalidInputException}. Pages of plain floats are copied in bulk ({@link PlainFloats}); others
   * go through Parquet's reader.
   */
  public int floats(String field, float[] into, int offset, int capacity) {
    List<ColumnDescriptor> leaves = leaves(field);
    ColumnDescriptor descriptor = leaves.get(0);
    if (leaves.size() != 1
        || descriptor.getPrimitiveType().getPrimitiveTypeName()
            != PrimitiveType.PrimitiveTypeName.FLOAT) {
      throw new InvalidInputException(
          file, "field '" + field + "' is not a float or a list of floats");
    }
    try {
      // Page bytes may be readable only once: hold each as a buffer, so both decoders can read it.
      PageReader source = pages.getPageReader(descriptor);
      DictionaryPage dictionary = PlainFloats.reusable(source.readDictionaryPage());
      List<DataPage> read = new ArrayList<>();
      for (DataPage page = source.readPage(); page != null; page = source.readPage()) {
        read.add(PlainFloats.reusable(page));
      }
      float[] lookup = dictionary == null ? null : PlainFloats.dictionary(dictionary, capacity);
      if (dictionary == null || lookup != null) {
        int n = 0;
        for (DataPage page : read) {
          boolean indexed =
              page instanceof org.apache.parquet.column.page.DataPageV1 v1
                  && v1.getValueEncoding().usesDictionary();
          int got =
              !indexed
                  ? PlainFloats.decode(
                      page,
                      descriptor.getMaxRepetitionLevel(),
                      descriptor.getMaxDefinitionLevel(),
                      into,
                      offset + n,
                      capacity - n)
                  : lookup == null
                      ? -1
                      : PlainFloats.decodeDictionary(
                          page,
                          lookup,
                          descriptor.getMaxRepetitionLevel(),
                          descriptor.getMaxDefinitionLevel(),
                          into,
                          offset + n,
                          capacity - n);
          if (got < 0) {
            n = -1;
            break;
          }
          n += got;
        }
        if (n >= 0) {
          return n;
        }
      }
      ColumnReader c =
          new ColumnReaderImpl(
              descriptor,
              new ListPageReader(dictionary, read, source.getTotalValueCount()),
              new PrimitiveConverter() {},
              writerVersion);
      int max = descriptor.getMaxDefinitionLevel();
      long total = c.getTotalValueCount();
      int n = 0;
      for (long i = 0; i < total; i++) {
        if (c.getCurrentDefinitionLevel() == max) {
          if (n == capacity) {
            throw new IllegalStateException("holds more than the " + capacity + " values expected");
          }
          into[offset + n++] = c.getFloat();
        }
        c.consume();
      }
      return n;
    } catch (InvalidInputException e) {
      throw e;
    } catch (IllegalStateException e) {
      throw new InvalidInputException(file, "field '" + field + "' " + e.getMessage());
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(
          file,
          "cannot decode field '"
              + field
              + "' ("
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage()
              + ")",
          e);
    }
  }

  /**
   * Decompression that refuses a page whose header declares more uncompressed bytes than the footer
   * declares for all the row's columns ({@code limit}, checked by the caller against its size
   * limit): the header's size is allocated before a byte is decompressed, and it is not covered by
   * the footer.
   */
  private static final class BoundedCodecs implements CompressionCodecFactory {
    private final String file;
    private final CompressionCodecFactory codecs;
    private long limit; // 0 until the footer is read

    BoundedCodecs(String file, CompressionCodecFactory codecs) {
      this.file = file;
      this.codecs = codecs;
    }

    @Override
    public BytesInputCompressor getCompressor(CompressionCodecName codec) {
      return codecs.getCompressor(codec);
    }

    @Override
    public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
      BytesInputDecompressor decompressor = codecs.getDecompressor(codec);
      return new BytesInputDecompressor() {
        @Override
        public BytesInput decompress(BytesInput bytes, int uncompressedSize) throws IOException {
          check(uncompressedSize);
          return decompressor.decompress(bytes, uncompressedSize);
        }

        @Override
        public void decompress(
            java.nio.ByteBuffer input,
            int compressedSize,
            java.nio.ByteBuffer output,
            int uncompressedSize)
            throws IOException {
          check(uncompressedSize);
          decompressor.decompress(input, compressedSize, output, uncompressedSize);
        }

        @Override
        public void release() {
          // pooled by the thread's factory (CODECS)
        }
      };
    }

    private void check(int uncompressedSize) {
      if (uncompressedSize < 0 || uncompressedSize > limit) {
        throw new InvalidInputException(
            file,
            "a page declares "
                + uncompressedSize
                + " uncompressed bytes, more than the "
                + limit
                + " the footer declares for all its columns");
      }
    }

    @Override
    public void release() {
      // the thread's factory outlives the file (CODECS)
    }
  }

  /** Pages already read, replayed to Parquet's general column reader. */
  static final class ListPageReader implements PageReader {
    private final DictionaryPage dictionary;
    private final java.util.Iterator<DataPage> pages;
    private final long total;

    ListPageReader(DictionaryPage dictionary, List<DataPage> pages, long total) {
      this.dictionary = dictionary;
      this.pages = pages.iterator();
      this.total = total;
    }

    @Override
    public DictionaryPage readDictionaryPage() {
      return dictionary;
    }

    @Override
    public long getTotalValueCount() {
      return total;
    }

    @Override
    public DataPage readPage() {
      return pages.hasNext() ? pages.next() : null;
    }
  }

  /**
   * The non-null integers of {@code field} (int32 or int64, or a list of them), at most {@code
   * capacity}.
   */
  public long[] longs(String field, int capacity) {
    ColumnReader c =
        column(field, PrimitiveType.PrimitiveTypeName.INT64, PrimitiveType.PrimitiveTypeName.INT32);
    boolean wide =
        c.getDescriptor().getPrimitiveType().getPrimitiveTypeName()
            == PrimitiveType.PrimitiveTypeName.INT64;
    int max = c.getDescriptor().getMaxDefinitionLevel();
    long total = c.getTotalValueCount();
    long[] values = new long[(int) Math.min(capacity, total)];
    int n = 0;
    for (long i = 0; i < total; i++) {
      if (c.getCurrentDefinitionLevel() == max) {
        if (n == values.length) {
          throw new InvalidInputException(
              file, "field '" + field + "' holds more than " + capacity + " values");
        }
        values[n++] = wide ? c.getLong() : c.getInteger();
      }
      c.consume();
    }
    return n == values.length ? values : java.util.Arrays.copyOf(values, n);
  }

  /** A scalar integer field, or null when it is absent or null. */
  public Long longValue(String field) {
    if (!has(field)) {
      return null;
    }
    long[] values = longs(field, 1);
    return values.length == 0 ? null : values[0];
  }

  /** A scalar double (or float) field, or null when it is absent or null. */
  public Double doubleValue(String field) {
    if (!has(field)) {
      return null;
    }
    ColumnReader c =
        column(
            field, PrimitiveType.PrimitiveTypeName.DOUBLE, PrimitiveType.PrimitiveTypeName.FLOAT);
    Double value = null;
    if (c.getTotalValueCount() > 0
        && c.getCurrentDefinitionLevel() == c.getDescriptor().getMaxDefinitionLevel()) {
      value =
          c.getDescriptor().getPrimitiveType().getPrimitiveTypeName()
                  == PrimitiveType.PrimitiveTypeName.DOUBLE
              ? c.getDouble()
              : (double) c.getFloat();
    }
    return value;
  }

  /** A scalar string field (at most {@code maxLength} bytes), or null when it is absent or null. */
  public String string(String field, int maxLength) {
    if (!has(field)) {
      return null;
    }
    ColumnReader c = column(field, PrimitiveType.PrimitiveTypeName.BINARY);
    if (c.getTotalValueCount() == 0
        || c.getCurrentDefinitionLevel() != c.getDescriptor().getMaxDefinitionLevel()) {
      return null;
    }
    Binary value = c.getBinary();
    if (value.length() > maxLength) {
      throw new InvalidInputException(
          file,
          "field '"
              + field
              + "' is "
              + value.length()
              + " bytes long, at most "
              + maxLength
              + " allowed");
    }
    return value.toStringUsingUTF8();
  }

  /**
   * For a list of records ({@code field}), the floats of the list-valued member {@code member} of
   * each record: one array per record, empty where the member is null or empty. At most {@code
   * capacity} values in all.
   */
  public float[][] floatLists(String field, String member, long capacity) {
    ColumnDescriptor descriptor = member(field, member);
    ColumnReader c =
        leafColumn(descriptor, PrimitiveType.PrimitiveTypeName.FLOAT, field + "." + member);
    int maxDefinition = descriptor.getMaxDefinitionLevel();
    int recordLevel =
        descriptor.getMaxRepetitionLevel()
            - 1; // a repetition level at or below it starts a new record
    long total = c.getTotalValueCount();
    if (total > capacity) {
      throw new InvalidInputException(
          file,
          "field '"
              + field
              + "."
              + member
              + "' holds "
              + total
              + " values, at most "
              + capacity
              + " allowed");
    }
    List<float[]> records = new ArrayList<>();
    float[] buffer = new float[(int) Math.min(total, Integer.MAX_VALUE - 8)];
    int start = 0;
    int n = 0;
    for (long i = 0; i < total; i++) {
      if (c.getCurrentRepetitionLevel() <= recordLevel && i > 0) {
        records.add(java.util.Arrays.copyOfRange(buffer, start, n));
        start = n;
      }
      if (c.getCurrentDefinitionLevel() == maxDefinition) {
        buffer[n++] = c.getFloat();
      }
      c.consume();
    }
    if (total > 0) {
      records.add(java.util.Arrays.copyOfRange(buffer, start, n));
    }
    return records.toArray(new float[0][]);
  }

  /**
   * For a list of records ({@code field}), the integer member {@code member} of each record (nulls
   * skipped).
   */
  public long[] recordLongs(String field, String member, int capacity) {
    ColumnDescriptor descriptor = member(field, member);
    PrimitiveType.PrimitiveTypeName type = descriptor.getPrimitiveType().getPrimitiveTypeName();
    ColumnReader c =
        leafColumn(
            descriptor,
            type == PrimitiveType.PrimitiveTypeName.INT64
                ? type
                : PrimitiveType.PrimitiveTypeName.INT32,
            field + "." + member);
    long total = c.getTotalValueCount();
    if (total > capacity) {
      throw new InvalidInputException(
          file,
          "field '"
              + field
              + "."
              + member
              + "' holds "
              + total
              + " values, at most "
              + capacity
              + " allowed");
    }
    long[] values = new long[(int) total];
    int n = 0;
    for (long i = 0; i < total; i++) {
      if (c.getCurrentDefinitionLevel() == descriptor.getMaxDefinitionLevel()) {
        values[n++] = type == PrimitiveType.PrimitiveTypeName.INT64 ? c.getLong() : c.getInteger();
      }
      c.consume();
    }
    return java.util.Arrays.copyOf(values, n);
  }

  /**
   * The leaf of {@code field} whose path holds {@code member} right after the list wrapper levels.
   */
  private ColumnDescriptor member(String field, String member) {
    for (ColumnDescriptor c : leaves(field)) {
      String[] path = c.getPath();
      for (int i = 1; i < path.length; i++) {
        if (path[i].equals(member) && i >= 2) {
          return c;
        }
      }
    }
    throw new InvalidInputException(file, "field '" + field + "' has no member '" + member + "'");
  }

  @Override
  public void close() {
    closeQuietly(reader);
    buffers.close();
  }

  /** Converters are required to build column readers but never receive values here. */
  private static final class NoConverter extends GroupConverter {
    private final Converter[] children;

    NoConverter(GroupType type) {
      children = new Converter[type.getFieldCount()];
      for (int i = 0; i < children.length; i++) {
        Type child = type.getType(i);
        children[i] =
            child.isPrimitive()
                ? new PrimitiveConverter() {}
                : new NoConverter(child.asGroupType());
      }
    }

    @Override
    public Converter getConverter(int fieldIndex) {
      return children[fieldIndex];
    }

    @Override
    public void start() {}

    @Override
    public void end() {}
  }
}
