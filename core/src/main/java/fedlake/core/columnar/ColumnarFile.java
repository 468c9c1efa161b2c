package fedlake.core.columnar;

import fedlake.core.InvalidInputException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
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
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
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
  private final Footer footer;
  private ParquetFileReader reader; // Parquet's reader, opened only for compressed chunks
  private final Footer.Group block;
  private final Layout layout;
  private final MessageType schema;
  private final Map<String, List<ColumnDescriptor>> leavesByField;

  /** The row group's chunks by leaf (the layout's column order); null for a leaf without one. */
  private final Footer.Chunk[] chunks;

  private long declaredTotal; // uncompressed bytes of every chunk
  private ColumnReadStoreImpl columns; // built when a value needs Parquet's column readers
  private PageReadStore pages;
  private Projection projected;
  private PooledBuffers buffers; // with Parquet's reader

  private ColumnarFile(String file, StoreInputFile input, Footer footer) {
    this.file = file;
    this.input = input;
    this.footer = footer;
    this.layout = layout(footer);
    this.schema = layout.schema;
    this.leavesByField = layout.leavesByField;
    long rows = 0;
    Footer.Group withRow = null;
    for (Footer.Group b : footer.rowGroups) {
      if (b.rows() < 0) {
        throw new InvalidInputException(file, "declares a row group of " + b.rows() + " rows");
      }
      rows += b.rows();
      if (b.rows() > 0) {
        withRow = b;
      }
    }
    if (rows != 1) {
      throw new InvalidInputException(
          file, "holds " + rows + " rows; an update file holds exactly one");
    }
    this.block = withRow;
    this.chunks = new Footer.Chunk[layout.leafPaths.size()];
    List<Footer.Chunk> columns = block.columns();
    for (int i = 0; i < columns.size(); i++) {
      Footer.Chunk meta = columns.get(i);
      if (meta == null) {
        throw new InvalidInputException(file, "has a column chunk without metadata");
      }
      declaredTotal += meta.uncompressed();
      int leaf = layout.leaf(i, meta.path());
      if (leaf >= 0) {
        chunks[leaf] = meta;
      }
    }
  }

  /**
   * Opens {@code path} ({@code bytes} long, as listed) and reads its footer only. A file that is
   * not Parquet or does not hold exactly one row raises {@link InvalidInputException}.
   */
  public static ColumnarFile open(String path, long bytes, FileSystem fs) {
    try {
      StoreInputFile input = new StoreInputFile(fs, path, bytes);
      return new ColumnarFile(path, input, footer(path, input, bytes));
    } catch (InvalidInputException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(
          path,
          "cannot read the Parquet footer ("
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage()
              + ")",
          e);
    }
  }

  /**
   * The footer, decoded in place from the file in memory (or from its tail for a large file): the
   * checks of Parquet's reader, and no structure allocated beyond what the footer's bytes hold.
   */
  private static Footer footer(String path, StoreInputFile input, long fileLength)
      throws IOException {
    byte[] bytes = input.whole();
    int length = (int) Math.min(fileLength, Integer.MAX_VALUE);
    int offset = 0;
    if (bytes == null) {
      // a large file: its last 8 bytes give the footer's length, then the footer itself
      byte[] tail = new byte[8];
      try (org.apache.parquet.io.SeekableInputStream in = input.newStream()) {
        in.seek(fileLength - 8);
        in.readFully(tail);
        int size = littleEndianInt(tail, 0);
        if (size <= 0 || size > fileLength - 12 || size > (64 << 20)) {
          throw new InvalidInputException(
              path,
              "not a readable Parquet file: its footer length "
                  + size
                  + " does not fit its "
                  + fileLength
                  + " bytes");
        }
        bytes = new byte[size + 8];
        in.seek(fileLength - 8 - size);
        in.readFully(bytes);
        byte[] head = new byte[4];
        in.seek(0);
        in.readFully(head);
        if (!magic(head, 0)) {
          throw new InvalidInputException(
              path, "not a readable Parquet file: truncated or corrupt (no valid footer)");
        }
      }
      length = bytes.length;
      offset = -1; // the buffer holds only the footer and its tail
    }
    if (length < 12 || (offset == 0 && !magic(bytes, 0)) || !magic(bytes, length - 4)) {
      throw new InvalidInputException(
          path, "not a readable Parquet file: truncated or corrupt (no valid footer)");
    }
    int size = littleEndianInt(bytes, length - 8);
    if (size <= 0 || size > length - (offset == 0 ? 12 : 8)) {
      throw new InvalidInputException(
          path,
          "not a readable Parquet file: its footer length "
              + size
              + " does not fit its "
              + length
              + " bytes");
    }
    try {
      Layout last = LAST_LAYOUT.get();
      return Footer.decode(bytes, length - 8 - size, size, last == null ? null : last.schemaBytes);
    } catch (IllegalStateException e) {
      throw new IOException("cannot decode the footer: " + e.getMessage(), e);
    }
  }

  private static int littleEndianInt(byte[] bytes, int at) {
    return (bytes[at] & 0xff)
        | (bytes[at + 1] & 0xff) << 8
        | (bytes[at + 2] & 0xff) << 16
        | (bytes[at + 3] & 0xff) << 24;
  }

  /**
   * A schema as Parquet's column readers need it, with its leaves by top-level field and the
   * projections asked of it. Files of one round share their schema: each thread keeps the last,
   * recognised by the footer bytes it was built from.
   */
  private static final class Layout {
    final byte[] schemaBytes;
    final MessageType schema;
    final Map<String, List<ColumnDescriptor>> leavesByField = new HashMap<>();
    final Map<List<String>, Projection> projections = new HashMap<>();

    /** Leaf paths in column order; a footer's lists, so that the next footers' are these. */
    final List<List<String>> leafPaths = new ArrayList<>();

    final Map<List<String>, Integer> leafIndex = new HashMap<>();
    final Map<ColumnDescriptor, Integer> descriptorLeaf = new java.util.IdentityHashMap<>();

    Layout(byte[] schemaBytes, MessageType schema) {
      this.schemaBytes = schemaBytes;
      this.schema = schema;
      for (ColumnDescriptor c : schema.getColumns()) {
        leavesByField.computeIfAbsent(c.getPath()[0], k -> new ArrayList<>()).add(c);
        leafIndex.put(List.of(c.getPath()), leafPaths.size());
        leafPaths.add(List.of(c.getPath()));
      }
    }

    /**
     * The leaf of the chunk at {@code position} holding {@code path}, or -1 for a path that is not
     * a leaf. Chunks come in leaf order and files of one layout decode the same path lists ({@link
     * Footer}), so this is one comparison of references in the common case.
     */
    int leaf(int position, List<String> path) {
      if (position < leafPaths.size() && leafPaths.get(position) == path) {
        return position;
      }
      Integer leaf = leafIndex.get(path);
      if (leaf == null) {
        return -1;
      }
      leafPaths.set(leaf, path); // the next file's list is most likely this one
      return leaf;
    }

    /** The leaf of a column of this layout or of one of its projections. */
    int leaf(ColumnDescriptor c) {
      Integer leaf = descriptorLeaf.get(c);
      if (leaf == null) {
        leaf = leafIndex.getOrDefault(Arrays.asList(c.getPath()), -1);
        if (descriptorLeaf.size() > 100_000) {
          descriptorLeaf.clear(); // callers that build descriptors afresh each time
        }
        descriptorLeaf.put(c, leaf);
      }
      return leaf;
    }

    boolean builtFrom(Footer footer) {
      return Arrays.equals(
          schemaBytes, 0, schemaBytes.length, footer.bytes, footer.schemaStart, footer.schemaEnd);
    }

    Projection projection(List<String> fields) {
      return projections.computeIfAbsent(
          List.copyOf(fields),
          wanted -> {
            List<Type> projected = new ArrayList<>();
            for (String field : wanted) {
              if (leavesByField.containsKey(field)) {
                projected.add(schema.getType(field));
              }
            }
            MessageType type = new MessageType(schema.getName(), projected);
            return new Projection(type, type.getColumns(), new NoConverter(type));
          });
    }
  }

  /** A projection of a layout, with its (stateless) converters: built once, used by every file. */
  private record Projection(
      MessageType type, List<ColumnDescriptor> columns, NoConverter converter) {}

  private static final ThreadLocal<Layout> LAST_LAYOUT = new ThreadLocal<>();

  private static Layout layout(Footer footer) {
    Layout last = LAST_LAYOUT.get();
    if (last != null && last.builtFrom(footer)) {
      return last;
    }
    try {
      // a schema not seen last on this thread: the whole footer through Thrift's own decoder
      FileMetaData metadata = new FileMetaData();
      ThriftBytes.read(metadata, footer.bytes, footer.offset, footer.length);
      MessageType schema =
          CONVERTER
              .fromParquetMetadata(
                  new FileMetaData(
                      metadata.getVersion(),
                      metadata.getSchema(),
                      metadata.getNum_rows(),
                      List.of()),
                  null,
                  false,
                  new HashMap<>())
              .getFileMetaData()
              .getSchema();
      Layout layout =
          new Layout(
              Arrays.copyOfRange(footer.bytes, footer.schemaStart, footer.schemaEnd), schema);
      LAST_LAYOUT.set(layout);
      return layout;
    } catch (TException | IOException | RuntimeException e) {
      throw new IllegalArgumentException("its schema cannot be read (" + e.getMessage() + ")", e);
    }
  }

  private static boolean magic(byte[] bytes, int at) {
    return bytes[at] == 'P' && bytes[at + 1] == 'A' && bytes[at + 2] == 'R' && bytes[at + 3] == '1';
  }

  private ParquetFileReader reader() throws IOException {
    if (reader == null) {
      BoundedCodecs codecs = new BoundedCodecs(file, CODECS.get());
      codecs.limit = declaredBytes();
      buffers = new PooledBuffers();
      // a plain configuration: building read options over a new Hadoop Configuration costs
      // milliseconds a file
      reader =
          ParquetFileReader.open(
              input,
              ParquetReadOptions.builder(PLAIN)
                  .withCodecFactory(codecs)
                  .withAllocator(buffers)
                  .build());
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
      total += chunk(c).values();
    }
    return total;
  }

  /** Uncompressed bytes the footer declares for the leaves of {@code field}. */
  public long declaredBytes(String field) {
    long total = 0;
    for (ColumnDescriptor c : leaves(field)) {
      total += chunk(c).uncompressed();
    }
    return total;
  }

  /** Uncompressed bytes the footer declares for every column of the row. */
  public long declaredBytes() {
    long total = 0;
    total += declaredTotal;
    return total;
  }

  private List<ColumnDescriptor> leaves(String field) {
    List<ColumnDescriptor> leaves = leavesByField.get(field);
    if (leaves == null) {
      throw new InvalidInputException(file, "has no field '" + field + "'");
    }
    return leaves;
  }

  private Footer.Chunk chunk(ColumnDescriptor c) {
    int leaf = layout.leaf(c);
    Footer.Chunk chunk = leaf >= 0 ? chunks[leaf] : null;
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
    Projection wanted = layout.projection(fields);
    MessageType projection = wanted.type();
    try {
      PageReadStore pages = direct(wanted.columns());
      if (pages == null) {
        ParquetFileReader parquet = reader();
        parquet.setRequestedSchema(projection);
        List<org.apache.parquet.hadoop.metadata.BlockMetaData> blocks =
            parquet.getFooter().getBlocks();
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
      this.pages = pages;
      this.projected = wanted;
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
  private PageReadStore direct(List<ColumnDescriptor> wanted) {
    byte[] bytes = input.whole();
    if (bytes == null) {
      return null;
    }
    for (ColumnDescriptor c : wanted) {
      if (!DirectPages.covers(chunk(c))) {
        return null;
      }
    }
    DirectPages pages = new DirectPages(CODECS.get(), chunks.length, layout::leaf);
    try {
      for (ColumnDescriptor c : wanted) {
        pages.add(c, chunk(c), bytes, (int) input.getLength());
      }
    } catch (IllegalStateException e) {
      throw new InvalidInputException(file, e.getMessage(), e);
    }
    return pages;
  }

  /**
   * Parquet's column readers over the loaded pages: only values that are not plain (dictionaries,
   * other list layouts) go through them, so most files never build them.
   */
  private ColumnReadStoreImpl columnStore() {
    if (columns == null) {
      columns =
          new ColumnReadStoreImpl(pages, projected.converter(), projected.type(), footer.createdBy);
    }
    return columns;
  }

  /**
   * The writer version Parquet's column readers correct old files by, parsed once per writer string
   * on a thread (every file of a round comes from the same few writers).
   */
  private static final class WriterVersions {
    private static final ThreadLocal<Map<String, Optional<VersionParser.ParsedVersion>>> SEEN =
        ThreadLocal.withInitial(HashMap::new);

    static VersionParser.ParsedVersion of(String createdBy) {
      if (createdBy == null) {
        return null;
      }
      Map<String, Optional<VersionParser.ParsedVersion>> seen = SEEN.get();
      Optional<VersionParser.ParsedVersion> known = seen.get(createdBy);
      if (known == null) {
        VersionParser.ParsedVersion parsed;
        try {
          parsed = VersionParser.parse(createdBy);
        } catch (VersionParser.VersionParseException | RuntimeException e) {
          parsed = null;
        }
        known = Optional.ofNullable(parsed);
        if (seen.size() < 64) { // any writer string is kept, but not without bound
          seen.put(createdBy, known);
        }
      }
      return known.orElse(null);
    }
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
        return columnStore().getColumnReader(descriptor);
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
    return columnStore().getColumnReader(descriptor);
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
              WriterVersions.of(footer.createdBy));
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

  /** Marks a null scalar in {@link #plainScalar}. */
  private static final ByteBuffer NULL_SCALAR = ByteBuffer.allocate(0);

  /**
   * The common form of a scalar column, read without building a column reader: one plain value in
   * one page, its definition level (if any) one RLE run. Returns the page's bytes positioned at the
   * value (little-endian), {@link #NULL_SCALAR} for a null, or null when the column is in another
   * form (the general reader then decodes it).
   */
  private ByteBuffer plainScalar(String field, PrimitiveType.PrimitiveTypeName... types) {
    List<ColumnDescriptor> leaves = leaves(field);
    if (!(pages instanceof DirectPages direct) || leaves.size() != 1) {
      return null;
    }
    ColumnDescriptor d = leaves.get(0);
    if (d.getMaxRepetitionLevel() != 0
        || !java.util.Arrays.asList(types).contains(d.getPrimitiveType().getPrimitiveTypeName())
        || !(direct.onlyPage(d) instanceof org.apache.parquet.column.page.DataPageV1 page)
        || page.getValueCount() != 1
        || page.getValueEncoding() != org.apache.parquet.column.Encoding.PLAIN) {
      return null;
    }
    ByteBuffer bytes;
    try {
      bytes = page.getBytes().toByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    } catch (IOException e) {
      return null;
    }
    int position = bytes.position();
    int max = d.getMaxDefinitionLevel();
    if (max > 0) {
      if (page.getDlEncoding() != org.apache.parquet.column.Encoding.RLE
          || bytes.limit() - position < 4) {
        return null;
      }
      int length = bytes.getInt(position);
      if (PlainFloats.allAt(bytes, position + 4, length, 0, max, 1)) {
        return NULL_SCALAR;
      }
      if (!PlainFloats.allAt(bytes, position + 4, length, max, max, 1)) {
        return null;
      }
      position += 4 + length;
    }
    int width =
        switch (d.getPrimitiveType().getPrimitiveTypeName()) {
          case INT32, FLOAT, BINARY -> 4;
          case INT64, DOUBLE -> 8;
          default -> Integer.MAX_VALUE;
        };
    if (position < 0 || bytes.limit() - position < width) {
      return null;
    }
    bytes.position(position);
    return bytes;
  }

  /** A scalar integer field, or null when it is absent or null. */
  public Long longValue(String field) {
    if (!has(field)) {
      return null;
    }
    ByteBuffer plain =
        plainScalar(
            field, PrimitiveType.PrimitiveTypeName.INT64, PrimitiveType.PrimitiveTypeName.INT32);
    if (plain != null) {
      return plain == NULL_SCALAR
          ? null
          : chunkType(field) == PrimitiveType.PrimitiveTypeName.INT64
              ? plain.getLong(plain.position())
              : (long) plain.getInt(plain.position());
    }
    long[] values = longs(field, 1);
    return values.length == 0 ? null : values[0];
  }

  private PrimitiveType.PrimitiveTypeName chunkType(String field) {
    return leaves(field).get(0).getPrimitiveType().getPrimitiveTypeName();
  }

  /** A scalar double (or float) field, or null when it is absent or null. */
  public Double doubleValue(String field) {
    if (!has(field)) {
      return null;
    }
    ByteBuffer plain =
        plainScalar(
            field, PrimitiveType.PrimitiveTypeName.DOUBLE, PrimitiveType.PrimitiveTypeName.FLOAT);
    if (plain != null) {
      return plain == NULL_SCALAR
          ? null
          : chunkType(field) == PrimitiveType.PrimitiveTypeName.DOUBLE
              ? plain.getDouble(plain.position())
              : (double) plain.getFloat(plain.position());
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
    byte[] text = bytes(field, maxLength);
    return text == null ? null : new String(text, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A scalar binary field (at most {@code maxLength} bytes), or null when it is absent or null. */
  public byte[] bytes(String field, int maxLength) {
    if (!has(field)) {
      return null;
    }
    ByteBuffer plain = plainScalar(field, PrimitiveType.PrimitiveTypeName.BINARY);
    if (plain != null) {
      if (plain == NULL_SCALAR) {
        return null;
      }
      int at = plain.position();
      int length = plain.getInt(at);
      if (length >= 0 && length <= plain.limit() - at - 4) {
        requireLength(field, length, maxLength);
        byte[] value = new byte[length];
        plain.get(at + 4, value);
        return value;
      }
    }
    ColumnReader c = column(field, PrimitiveType.PrimitiveTypeName.BINARY);
    if (c.getTotalValueCount() == 0
        || c.getCurrentDefinitionLevel() != c.getDescriptor().getMaxDefinitionLevel()) {
      return null;
    }
    Binary value = c.getBinary();
    requireLength(field, value.length(), maxLength);
    return value.getBytes();
  }

  private void requireLength(String field, int length, int maxLength) {
    if (length > maxLength) {
      throw new InvalidInputException(
          file,
          "field '" + field + "' is " + length + " bytes long, at most " + maxLength + " allowed");
    }
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
    requireAtMost(field + "." + member, total, capacity);
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

  private void requireAtMost(String name, long total, long capacity) {
    if (total > capacity) {
      throw new InvalidInputException(
          file,
          "field '" + name + "' holds " + total + " values, at most " + capacity + " allowed");
    }
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
    requireAtMost(field + "." + member, total, capacity);
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
    if (pages instanceof DirectPages direct) {
      direct.release();
    }
    closeQuietly(reader);
    if (buffers != null) {
      buffers.close();
    }
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
