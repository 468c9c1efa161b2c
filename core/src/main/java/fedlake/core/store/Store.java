package fedlake.core.store;

import fedlake.core.InvalidInputException;
import fedlake.core.model.FloatArrays;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The federation's object-store layout under one root URI ({@code file://} or {@code s3a://}), and
 * the only code that writes to it. See docs/storage.md.
 *
 * <pre>
 * ROOT/models/_LATEST                         pointer: current round and its model files
 * ROOT/models/_claims/round-000003/claim-0001 the round job that publishes round 3 (RoundClaim)
 * ROOT/models/round-000003/cluster-0.parquet  model of cluster 0 that round 3 trains from
 * ROOT/updates/round-000003/SITE-UUID.parquet one upload of SITE for round 3
 * ROOT/history/round-000003.parquet           round-history rows of round 3
 * ROOT/audit/round-000003.parquet             one audit row per update file of round 3
 * </pre>
 *
 * <p>Every file becomes visible complete or not at all: on object stores the object appears when
 * its upload completes; on file systems it is written under a hidden name and renamed. Readers skip
 * names starting with '.' or '_'. The pointer is written last, after the files it names.
 */
public final class Store {
  public static final String LATEST = "_LATEST";

  /**
   * Site ids: 1 to 128 characters from {@code A-Z a-z 0-9 . _ -}, starting with a letter or digit
   * (names starting with '.' or '_' are hidden from every reader) and without "--" (it separates
   * the site from the update id in an update's file name).
   */
  public static final Pattern SITE = Pattern.compile("(?!.*--)[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /** What {@link #SITE} allows, in words, for error messages and usage. */
  public static final String SITE_ALPHABET =
      "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, without '--'";

  private static final Pattern ROUND_DIR = Pattern.compile("round-(\\d{6,})");
  private static final Set<String> OBJECT_STORES =
      Set.of("s3a", "s3", "s3n", "gs", "abfs", "abfss", "wasb", "oss");

  private final URI root;
  private final Path rootPath;
  private final Configuration conf;
  private final FileSystem fs;
  private final boolean objectStore;

  /** Create-if-absent on S3A (a PutObject with If-None-Match), else null. */
  private final ConditionalPut conditionalPut;

  private Store(URI root, Configuration conf) throws IOException {
    this.root = root;
    this.rootPath = new Path(root);
    this.conf = conf;
    FileSystem fileSystem = rootPath.getFileSystem(conf);
    this.fs =
        fileSystem instanceof LocalFileSystem ? LocalStoreFileSystem.create(conf) : fileSystem;
    this.objectStore = OBJECT_STORES.contains(fs.getUri().getScheme());
    this.conditionalPut = "s3a".equals(fs.getUri().getScheme()) ? ConditionalPut.of(fs) : null;
  }

  /** Opens the store at {@code uri}; a plain path means a local directory. */
  public static Store open(String uri, Configuration conf) {
    if (uri == null || uri.isBlank()) {
      throw new IllegalArgumentException(
          "Cannot open store: no store URI given (file:///path or s3a://bucket/prefix)");
    }
    URI parsed =
        URI.create(
            uri.contains("://") ? uri : new java.io.File(uri).getAbsoluteFile().toURI().toString());
    try {
      return new Store(parsed, conf);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("Cannot open store " + uri + ": " + e.getMessage(), e);
    }
  }

  public static Store open(String uri) {
    return open(uri, new Configuration());
  }

  /** Hadoop configuration entries to rebuild this store elsewhere (a Spark executor). */
  public static Map<String, String> settings(Configuration conf) {
    Map<String, String> map = new TreeMap<>();
    for (Map.Entry<String, String> e : conf) {
      map.put(e.getKey(), e.getValue());
    }
    return map;
  }

  public static Configuration configuration(Map<String, String> settings) {
    Configuration conf = new Configuration(false);
    settings.forEach(conf::set);
    return conf;
  }

  /**
   * The file system of {@code uri} as the store uses it: for {@code file:} the raw local file
   * system (atomic renames, no checksum side files, {@link LocalStoreFileSystem}), else Hadoop's.
   */
  public static FileSystem fileSystem(String uri, Configuration conf) {
    try {
      FileSystem fileSystem = new Path(uri).getFileSystem(conf);
      return fileSystem instanceof LocalFileSystem ? LocalStoreFileSystem.create(conf) : fileSystem;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot open the file system of " + uri + ": " + e.getMessage(), e);
    }
  }

  public URI root() {
    return root;
  }

  public Configuration conf() {
    return conf;
  }

  public FileSystem fileSystem() {
    return fs;
  }

  /**
   * The file system to write {@code path} with: the store's, or for the local temporary file that
   * {@link #createAtomically} hands its writer on an object store, the raw local one.
   */
  public FileSystem fileSystem(Path path) throws IOException {
    return objectStore && "file".equals(path.toUri().getScheme())
        ? LocalStoreFileSystem.create(conf)
        : fs;
  }

  /** Checks that a site id is safe to put into a file name. */
  public static String checkSite(String site) {
    if (site == null || !SITE.matcher(site).matches()) {
      throw new IllegalArgumentException("Invalid site id '" + site + "': use " + SITE_ALPHABET);
    }
    return site;
  }

  // ---- layout ---------------------------------------------------------------------------------

  public static String roundName(int round) {
    return String.format("round-%06d", round);
  }

  public Path modelsDir() {
    return new Path(rootPath, "models");
  }

  public Path modelFile(int round, int cluster) {
    return new Path(new Path(modelsDir(), roundName(round)), "cluster-" + cluster + ".parquet");
  }

  public Path latestPointer() {
    return new Path(modelsDir(), LATEST);
  }

  public Path updatesDir(int round) {
    return new Path(new Path(rootPath, "updates"), roundName(round));
  }

  public Path historyFile(int round) {
    return new Path(new Path(rootPath, "history"), roundName(round) + ".parquet");
  }

  public Path auditFile(int round) {
    return new Path(new Path(rootPath, "audit"), roundName(round) + ".parquet");
  }

  public Path path(String relative) {
    return new Path(rootPath, relative);
  }

  // ---- writing --------------------------------------------------------------------------------

  /** Writes a file so that readers see it complete or not at all, replacing any earlier one. */
  public void writeAtomically(Path target, FileWriter writer) throws IOException {
    if (objectStore) {
      writer.write(target);
      return;
    }
    Path temporary =
        new Path(target.getParent(), "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
    try {
      fs.mkdirs(target.getParent());
      writer.write(temporary);
      if (!fs.rename(temporary, target)) {
        fs.delete(target, false);
        if (!fs.rename(temporary, target)) {
          throw new IOException("Cannot rename " + temporary + " to " + target);
        }
      }
    } finally {
      removeTemporary(temporary);
    }
  }

  /**
   * Deletes a temporary file if it is still there, and the .NAME.crc that writers going through
   * Hadoop's checksummed local file system leave beside it (a raw rename does not move it).
   */
  private void removeTemporary(Path temporary) throws IOException {
    if (fs.exists(temporary)) {
      fs.delete(temporary, false);
    }
    Path checksum = new Path(temporary.getParent(), "." + temporary.getName() + ".crc");
    if (fs.exists(checksum)) {
      fs.delete(checksum, false);
    }
  }

  /**
   * Creates {@code target} with the content {@code writer} writes, unless it exists: returns false,
   * writing nothing visible, when it does. Readers see the file complete or not at all. The writer
   * must open the path it is given with {@link #fileSystem(Path)} or the path's own file system: on
   * S3 it is a local temporary file.
   *
   * <p>Atomic on file systems: on the local file system the finished temporary file is hard-linked
   * to the target (link(2) fails when the target exists), on HDFS and other Hadoop file systems it
   * is renamed (their rename does not replace an existing target). Atomic on S3 ({@code s3a:}) when
   * the server honours conditional writes: the writer writes a local temporary file, which is
   * uploaded with one PutObject carrying {@code If-None-Match: *}; the server refuses it (HTTP 412)
   * when the object exists. Whether the server honours the header is probed once per file system
   * (ConditionalPut). On servers that ignore it, and on other object stores, the existence check
   * and the upload are two requests, so two writers within that window may both "create" the object
   * and the later upload wins (docs/storage.md).
   */
  public boolean createAtomically(Path target, FileWriter writer) throws IOException {
    if (objectStore) {
      if (conditionalPut != null && probedConditionalPut(target)) {
        return createConditionally(target, writer);
      }
      if (fs.exists(target)) {
        return false;
      }
      try {
        writer.write(target);
      } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
        return false; // the writer's own create(path, false) saw it appear
      }
      return true;
    }
    Path temporary =
        new Path(target.getParent(), "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
    try {
      fs.mkdirs(target.getParent());
      writer.write(temporary);
      if ("file".equals(fs.getUri().getScheme())) {
        try {
          java.nio.file.Files.createLink(
              java.nio.file.Path.of(target.toUri()), java.nio.file.Path.of(temporary.toUri()));
          return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
          return false;
        }
      }
      return fs.rename(temporary, target);
    } finally {
      removeTemporary(temporary);
    }
  }

  private boolean probedConditionalPut(Path target) throws IOException {
    try {
      return conditionalPut.honoured(target.getParent());
    } catch (IOException e) {
      throw new IOException("Cannot create " + target + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@link #createAtomically} on S3: the writer writes a local temporary file, uploaded with one
   * conditional PutObject; the temporary file (and the checksum file beside it) is deleted always.
   */
  private boolean createConditionally(Path target, FileWriter writer) throws IOException {
    java.io.File local =
        new java.io.File(
            System.getProperty("java.io.tmpdir"), "fedlake-create-" + UUID.randomUUID() + ".tmp");
    java.io.File checksum = new java.io.File(local.getParentFile(), "." + local.getName() + ".crc");
    try {
      writer.write(new Path(local.toURI()));
      return conditionalPut.put(target, local);
    } finally {
      java.nio.file.Files.deleteIfExists(local.toPath());
      java.nio.file.Files.deleteIfExists(checksum.toPath());
    }
  }

  /** Whether {@code name} is one of the temporary files {@link #writeAtomically} writes. */
  public static boolean isTemporary(String name) {
    return name.startsWith(".") && (name.endsWith(".tmp") || name.endsWith(".tmp.crc"));
  }

  /**
   * Removes the temporary files ({@code .NAME.UUID.tmp}) a killed writer left in {@code dirs} (not
   * recursively); returns the files removed. Call only while no other writer can be writing there.
   */
  public List<Path> removeTemporaries(List<Path> dirs) {
    List<Path> removed = new ArrayList<>();
    for (Path dir : dirs) {
      try {
        if (!fs.exists(dir)) {
          continue;
        }
        for (FileStatus status : fs.listStatus(dir)) {
          if (status.isFile() && isTemporary(status.getPath().getName())) {
            if (fs.delete(status.getPath(), false)) {
              removed.add(status.getPath());
            }
          }
        }
      } catch (java.io.FileNotFoundException e) {
        // the folder went away: nothing to clean
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot remove temporary files from " + dir + ": " + e.getMessage(), e);
      }
    }
    return removed;
  }

  /**
   * Writing callback for {@link #writeAtomically} and {@link #createAtomically}: writes a new file
   * at the path given, which need not be on the store's file system.
   */
  @FunctionalInterface
  public interface FileWriter {
    void write(Path path) throws IOException;
  }

  public <T extends SpecificRecord> void writeRecords(Path target, Schema schema, List<T> records)
      throws IOException {
    writeAtomically(target, path -> ParquetFiles.write(path, conf, schema, records));
  }

  public <T extends SpecificRecord> List<T> readRecords(Path file, Schema schema) {
    return ParquetFiles.read(file, conf, schema);
  }

  // ---- models ---------------------------------------------------------------------------------

  /** The pointer to the current round's models, or empty when the federation has none yet. */
  public Optional<Latest> latest() {
    Path pointer = latestPointer();
    try {
      if (!fs.exists(pointer)) {
        return Optional.empty();
      }
      Properties properties = new Properties();
      try (InputStream in = fs.open(pointer)) {
        properties.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
      }
      return Optional.of(Latest.parse(properties, pointer.toString()));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read model pointer " + pointer, e);
    }
  }

  /** The current round's models, or an error telling the user to run init. */
  public Latest requireLatest() {
    return latest()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "No model published yet in "
                        + root
                        + ": run 'fedlake init --store "
                        + root
                        + " ...' first"));
  }

  public Model readModel(int round, int cluster) {
    Path file = modelFile(round, cluster);
    Model model = readModelColumns(file);
    if (model != null) {
      return model;
    }
    List<Model> models = readRecords(file, Model.getClassSchema());
    if (models.size() != 1) {
      throw new InvalidInputException(
          file.toString(), "expected one model row, found " + models.size());
    }
    return models.get(0);
  }

  /** Model fields of floats that hold parameters: read from their columns, not as records. */
  private static final List<String> MODEL_FLOATS =
      List.of("weights", "bias", "cacheKeys", "controlVariate");

  /** The model schema with an empty default for every field of {@link #MODEL_FLOATS}. */
  private static final Schema MODEL_READ = modelSchema(false);

  /** The model schema without the fields of {@link #MODEL_FLOATS}. */
  private static final Schema MODEL_SMALL = modelSchema(true);

  private static Schema modelSchema(boolean withoutFloats) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : Model.getClassSchema().getFields()) {
      boolean floats = MODEL_FLOATS.contains(f.name());
      if (floats && withoutFloats) {
        continue;
      }
      fields.add(new Schema.Field(f, f.schema()));
      if (floats && !f.hasDefaultValue()) {
        fields.set(fields.size() - 1, new Schema.Field(f.name(), f.schema(), f.doc(), List.of()));
      }
    }
    Schema model = Model.getClassSchema();
    return Schema.createRecord(
        model.getName(), model.getDoc(), model.getNamespace(), false, fields);
  }

  /**
   * A model read in two parts: its small fields as a record (Avro, without its parameters), its
   * parameters straight into float arrays (one copy, no object per value). Null when the file holds
   * a form that is cheaper to leave to the record reader (its floats compressed beyond the file's
   * size, so their count is not bounded by the file).
   */
  private Model readModelColumns(Path file) {
    long length;
    try {
      length = fs.getFileStatus(file).getLen();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
    List<Model> small = ParquetFiles.read(file, conf, MODEL_READ, MODEL_SMALL);
    if (small.size() != 1) {
      throw new InvalidInputException(
          file.toString(), "expected one model row, found " + small.size());
    }
    Model model = small.get(0);
    for (Schema.Field f : MODEL_SMALL.getFields()) {
      if (model.get(f.name()) == null && !f.schema().isNullable()) {
        return null; // a layout the projection did not match (an older list layout, say)
      }
    }
    try (fedlake.core.columnar.ColumnarFile columns =
        fedlake.core.columnar.ColumnarFile.open(file.toString(), length, fs)) {
      List<String> present = MODEL_FLOATS.stream().filter(columns::has).toList();
      for (String field : present) {
        if (columns.declaredValues(field) > length / 4 + 1) {
          return null;
        }
      }
      columns.load(present);
      for (String field : present) {
        float[] values = new float[(int) columns.declaredValues(field)];
        int n = columns.floats(field, values, 0, values.length);
        model.put(
            field,
            FloatArrays.asList(n == values.length ? values : java.util.Arrays.copyOf(values, n)));
      }
    }
    return model;
  }

  /**
   * The version a model file holds, read from its version column alone (a model's parameters are
   * not decoded).
   */
  public String readModelVersion(int round, int cluster) {
    Path file = modelFile(round, cluster);
    try (fedlake.core.columnar.ColumnarFile columns =
        fedlake.core.columnar.ColumnarFile.open(
            file.toString(), fs.getFileStatus(file).getLen(), fs)) {
      columns.load(List.of("version"));
      String version = columns.string("version", 1024);
      if (version == null) {
        throw new InvalidInputException(file.toString(), "holds a model without a version");
      }
      return version;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }

  /**
   * Writes one model file (atomically); readers do not see it until {@link #movePointer} names it.
   */
  public void writeModel(Model model) throws IOException {
    writeAtomically(modelFile(model.getRound(), model.getCluster()), modelWriter(model));
  }

  /**
   * Model files are written like update files (ParquetFiles#writePlain): their parameters are
   * trained floats, which neither compress nor repeat, and sites read them every round.
   */
  private FileWriter modelWriter(Model model) {
    return path -> ParquetFiles.writePlain(path, conf, Model.getClassSchema(), List.of(model));
  }

  /**
   * Writes one model file unless the file exists; never replaces a model. An existing file must
   * hold the same version (a rerun of the same aggregation): then it is kept as it is and false
   * returned. A file holding another version is an error.
   */
  public boolean writeModelOnce(Model model) throws IOException {
    Path file = modelFile(model.getRound(), model.getCluster());
    if (!fs.exists(file) && createAtomically(file, modelWriter(model))) {
      return true;
    }
    String held = readModelVersion(model.getRound(), model.getCluster());
    if (!held.equals(model.getVersion())) {
      throw new IllegalStateException(
          "Cannot write model "
              + model.getVersion()
              + ": "
              + file
              + " holds "
              + held
              + " already, and models are never replaced");
    }
    return false;
  }

  /** Makes {@code latest} the current round; call only after every file it names is written. */
  public void movePointer(Latest latest) throws IOException {
    writeAtomically(
        latestPointer(),
        path -> {
          try (OutputStream out = fs.create(path, true)) {
            out.write(latest.format().getBytes(StandardCharsets.UTF_8));
          }
        });
  }

  /**
   * Publishes the models of {@code round}: writes every model file, then moves the pointer. Until
   * the pointer moves, readers keep seeing the previous round's models.
   */
  public Latest publish(int round, List<Model> models) throws IOException {
    if (models.isEmpty()) {
      throw new IllegalArgumentException("Cannot publish round " + round + ": no models");
    }
    TreeMap<Integer, String> versions = new TreeMap<>();
    for (Model model : models) {
      if (model.getRound() != round) {
        throw new IllegalArgumentException(
            "Cannot publish round "
                + round
                + ": model "
                + model.getVersion()
                + " is for round "
                + model.getRound());
      }
      writeModel(model);
      versions.put(model.getCluster(), model.getVersion());
    }
    Latest latest = new Latest(round, versions);
    movePointer(latest);
    return latest;
  }

  /** Sites allowed to upload, from ROOT/_sites (one id a line), or empty when any site may. */
  public Optional<Set<String>> registeredSites() {
    Path file = new Path(rootPath, "_sites");
    try {
      if (!fs.exists(file)) {
        return Optional.empty();
      }
      try (InputStream in = fs.open(file)) {
        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        Set<String> sites = new java.util.TreeSet<>();
        for (String line : text.split("\\R")) {
          if (!line.isBlank() && !line.startsWith("#")) {
            sites.add(checkSite(line.trim()));
          }
        }
        return Optional.of(sites);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read site registry " + file, e);
    }
  }

  /** Writes the site registry ROOT/_sites. */
  public void registerSites(java.util.Collection<String> sites) throws IOException {
    StringBuilder text = new StringBuilder("# sites allowed to upload updates, one a line\n");
    for (String site : new java.util.TreeSet<>(sites)) {
      text.append(checkSite(site)).append('\n');
    }
    writeAtomically(
        new Path(rootPath, "_sites"),
        path -> {
          try (OutputStream out = fs.create(path, true)) {
            out.write(text.toString().getBytes(StandardCharsets.UTF_8));
          }
        });
  }

  // ---- updates --------------------------------------------------------------------------------

  /** The update schema without its docs, for smaller update files ({@link CompactSchemas}). */
  private static final org.apache.avro.Schema UPDATE_SCHEMA =
      CompactSchemas.withoutDocs(Update.getClassSchema());

  /** Writes one site's update for its round; returns the file. */
  public Path writeUpdate(Update update) throws IOException {
    checkSite(update.getSite());
    Path file =
        new Path(
            updatesDir(update.getRound()),
            update.getSite() + "--" + update.getUpdateId() + ".parquet");
    writeAtomically(
        file, path -> ParquetFiles.writePlain(path, conf, UPDATE_SCHEMA, List.of(update)));
    return file;
  }

  /**
   * A file or folder of a store listing: its full name as the store's listing gives it ({@code
   * file:/...} on a local store) and its length, -1 for a folder.
   */
  public record Listed(String uri, long bytes) {}

  /**
   * Everything in a round's update folder, files and folders, but the temporary files of uploads in
   * progress ({@code .NAME.UUID.tmp}) and checksum side files ({@code .NAME.crc}), sorted by name;
   * empty when the folder does not exist. The round job audits each.
   *
   * <p>On a local store the folder is listed through the JDK, its entries' lengths read on two
   * threads, and names are joined to the folder's as text: a round of 10,000 uploads is listed in a
   * fraction of the time Hadoop's paths take, and any name the file system allows comes back.
   */
  public List<Listed> listRoundFolder(int round) {
    Path dir = updatesDir(round);
    try {
      if (!fs.exists(dir)) {
        return List.of();
      }
      Path qualified = fs.makeQualified(dir);
      List<Listed> entries;
      if ("file".equals(qualified.toUri().getScheme())) {
        entries = listLocal(qualified);
      } else {
        entries = new ArrayList<>();
        for (FileStatus status : fs.listStatus(dir)) {
          String name = status.getPath().getName();
          if (listed(name)) {
            entries.add(
                new Listed(
                    status.getPath().toString(), status.isDirectory() ? -1 : status.getLen()));
          }
        }
      }
      entries.sort(Comparator.comparing(Listed::uri));
      return entries;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + dir, e);
    } catch (UncheckedIOException e) {
      throw new UncheckedIOException("Cannot list " + dir, e.getCause());
    }
  }

  /**
   * A local folder's listed entries (unsorted), through the JDK. A method of its own: a loop over
   * thousands of entries inside a large method that runs once a round makes the JIT compile that
   * whole method on the stack, at great cost.
   */
  private static List<Listed> listLocal(Path qualified) throws IOException {
    String prefix = qualified.toString() + "/";
    List<java.nio.file.Path> paths = new ArrayList<>();
    try (java.nio.file.DirectoryStream<java.nio.file.Path> listing =
        java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of(qualified.toUri()))) {
      for (java.nio.file.Path entry : listing) {
        if (listed(entry.getFileName().toString())) {
          paths.add(entry);
        }
      }
    }
    List<Listed> entries = new ArrayList<>(paths.size());
    paths.parallelStream()
        .map(entry -> localEntry(prefix, entry))
        .filter(java.util.Objects::nonNull)
        .forEachOrdered(entries::add);
    return entries;
  }

  /** Whether a round folder's entry is listed: not an upload's temporary file nor a checksum. */
  private static boolean listed(String name) {
    return !isTemporary(name) && !(name.startsWith(".") && name.endsWith(".crc"));
  }

  /** A local folder entry, or null when it went away while listing (as Hadoop skips it). */
  private static Listed localEntry(String prefix, java.nio.file.Path entry) {
    try {
      java.nio.file.attribute.BasicFileAttributes attributes =
          java.nio.file.Files.readAttributes(
              entry, java.nio.file.attribute.BasicFileAttributes.class);
      return new Listed(
          prefix + entry.getFileName(), attributes.isDirectory() ? -1 : attributes.size());
    } catch (java.nio.file.NoSuchFileException gone) {
      return null;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Visible update files of a round, sorted by name; empty when the folder does not exist. */
  public List<FileStatus> listUpdates(int round) {
    return listVisible(updatesDir(round), ".parquet");
  }

  public List<FileStatus> listVisible(Path dir, String suffix) {
    try {
      if (!fs.exists(dir)) {
        return List.of();
      }
      List<FileStatus> files = new ArrayList<>();
      for (FileStatus status : fs.listStatus(dir)) {
        String name = status.getPath().getName();
        if (status.isFile()
            && !name.startsWith(".")
            && !name.startsWith("_")
            && name.endsWith(suffix)) {
          files.add(status);
        }
      }
      files.sort(Comparator.comparing(s -> s.getPath().getName()));
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list " + dir, e);
    }
  }

  // ---- history and audit ----------------------------------------------------------------------

  public void writeHistory(int round, List<RoundHistory> rows) throws IOException {
    writeRecords(historyFile(round), RoundHistory.getClassSchema(), rows);
  }

  public void writeAudit(int round, List<UpdateAudit> rows) throws IOException {
    writeRecords(auditFile(round), UpdateAudit.getClassSchema(), rows);
  }

  /** All round-history rows, ordered by round and cluster. */
  public List<RoundHistory> readHistory() {
    List<RoundHistory> rows = new ArrayList<>();
    for (FileStatus file : listVisible(new Path(rootPath, "history"), ".parquet")) {
      rows.addAll(readRecords(file.getPath(), RoundHistory.getClassSchema()));
    }
    rows.sort(
        Comparator.comparingInt(RoundHistory::getRound).thenComparingInt(RoundHistory::getCluster));
    return rows;
  }

  public List<UpdateAudit> readAudit(int round) {
    Path file = auditFile(round);
    try {
      return fs.exists(file) ? readRecords(file, UpdateAudit.getClassSchema()) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }

  /** Rounds that have a history file, ascending. */
  public List<Integer> historyRounds() {
    List<Integer> rounds = new ArrayList<>();
    for (FileStatus file : listVisible(new Path(rootPath, "history"), ".parquet")) {
      Matcher m = ROUND_DIR.matcher(file.getPath().getName());
      if (m.lookingAt()) {
        rounds.add(Integer.parseInt(m.group(1)));
      }
    }
    return rounds;
  }

  @Override
  public String toString() {
    return root.toString();
  }
}
