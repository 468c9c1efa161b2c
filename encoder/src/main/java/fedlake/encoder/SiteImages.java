package fedlake.encoder;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.data.Npy;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * A site's own images turned into its training data without leaving the site: {@code
 * IMAGES/<class>/*.{png,jpg,jpeg}} (class ids as {@link ImageFolders} maps them, as {@code
 * embed-images} does) embedded with a frozen encoder, with an embedding cache so that a rerun only
 * embeds images it has not seen.
 *
 * <p>The cache is a folder of small {@code .npy} files, {@code CACHE/<encoder key>/<aa>/<sha256 of
 * the image file>.npy} (one row, the L2-normalised embedding), written whole or not at all
 * (temporary file, then a rename). The encoder key is a hash of the model file's content, the
 * engine and the input size, so a changed model never reuses embeddings of another, and an image
 * that moves or is renamed is still found by its content. A cache file that cannot be read is
 * embedded again. When every image is cached the model is not even loaded.
 *
 * <p>The edge runner calls {@link #embed} by reflection, so that its base variant carries neither
 * this module nor DJL.
 */
public final class SiteImages {
  /** Format of the cache and of the encoder key; a change starts a new cache folder. */
  static final String CACHE_FORMAT = "fedlake-embedding-cache-1";

  /** At most one progress line per this many milliseconds (the last batch always prints). */
  private static final long PROGRESS_MILLIS = 1000;

  private SiteImages() {}

  /** What {@link #embed} did, besides the data. */
  public record Counts(int images, int classes, int embedded, int cached, String encoderKey) {}

  /**
   * Embeds the images under {@code images}, reusing and filling the cache under {@code cache}, and
   * returns them as a data set (rows by class id, then file name; labels are class ids). Progress
   * and a summary line ("embedded E, cached C") go to {@code progress} when it is not null.
   *
   * @param images folder of one sub-folder per class (path or Hadoop URI)
   * @param encoder model location: path, {@code file:}, {@code http(s):} or Hadoop URI; a URL is
   *     downloaded once into {@code cache/models/}
   * @param imageSize side of the model's square input (224 for CLIP ViT-B/32)
   * @param classNamesFile class names, line i naming class i, or null
   * @param cache cache folder (created when absent)
   * @param classCount classes of the model the data is for: a class folder of a larger id is
   *     refused before anything is embedded (0: not checked)
   */
  public static Dataset embed(
      String images,
      String encoder,
      int imageSize,
      String classNamesFile,
      Path cache,
      int classCount,
      Configuration conf,
      PrintStream progress) {
    return run(images, encoder, imageSize, classNamesFile, cache, classCount, conf, progress)
        .data();
  }

  /** The data and the counts of {@link #embed}. */
  public record Result(Dataset data, Counts counts) {}

  /** As {@link #embed}, also returning the counts. */
  public static Result run(
      String images,
      String encoder,
      int imageSize,
      String classNamesFile,
      Path cache,
      int classCount,
      Configuration conf,
      PrintStream progress) {
    EncoderSettings settings = EncoderSettings.of(encoder).withImageSize(imageSize);
    List<String> classNames =
        classNamesFile == null ? null : ImageFolders.readClassNames(classNamesFile, conf);
    List<ClassImages> classes = ImageFolders.list(images, classNames, conf);
    for (ClassImages c : classes) {
      if (classCount > 0 && c.classId() >= classCount) {
        throw new InvalidInputException(
            c.folder(),
            "is class "
                + c.classId()
                + " but the model has "
                + classCount
                + " classes (0.."
                + (classCount - 1)
                + "): name class folders by class id, or pass --classnames"
                + (classNames == null ? " (sorted folder names get 0, 1, ...)" : ""));
      }
    }
    Path model = ModelFiles.local(encoder, conf, cache.resolve("models"));
    if (!Files.exists(model)) {
      throw new InvalidInputException(
          encoder, "cannot load encoder model: no such file or directory");
    }
    String key = encoderKey(model, settings);
    Path folder = cache.resolve(key);
    try {
      Files.createDirectories(folder);
    } catch (IOException e) {
      throw new InvalidInputException(
          cache.toString(), "cannot create the embedding cache: " + e.getMessage(), e);
    }

    List<Item> items = new ArrayList<>();
    for (ClassImages c : classes) {
      for (String file : c.files()) {
        items.add(new Item(file, c.classId()));
      }
    }
    List<Item> missing = new ArrayList<>();
    for (Item item : items) {
      item.hash = sha256(read(item.file, conf));
      item.embedding = cached(folder, item.hash);
      if (item.embedding == null) {
        missing.add(item);
      }
    }
    int cachedCount = items.size() - missing.size();
    if (!missing.isEmpty()) {
      EncoderSettings local =
          new EncoderSettings(
              model.toString(), settings.engine(), settings.imageSize(), settings.batchSize());
      embedMissing(missing, folder, local, conf, progress, cachedCount);
    }
    int dimension = items.get(0).embedding.length;
    float[] features = new float[items.size() * dimension];
    int[] labels = new int[items.size()];
    for (int row = 0; row < items.size(); row++) {
      Item item = items.get(row);
      if (item.embedding.length != dimension) {
        throw new InvalidInputException(
            folder.toString(),
            "cached embeddings disagree in length ("
                + dimension
                + " and "
                + item.embedding.length
                + " for "
                + item.file
                + "); remove the folder to embed again");
      }
      System.arraycopy(item.embedding, 0, features, row * dimension, dimension);
      labels[row] = item.classId;
    }
    Counts counts = new Counts(items.size(), classes.size(), missing.size(), cachedCount, key);
    if (progress != null) {
      progress.printf(
          Locale.ROOT,
          "images: %d in %d classes, %d values each; embedded %d, cached %d (cache %s)%n",
          counts.images(),
          counts.classes(),
          dimension,
          counts.embedded(),
          counts.cached(),
          folder);
    }
    return new Result(Dataset.of(images, features, labels, dimension), counts);
  }

  private static void embedMissing(
      List<Item> missing,
      Path folder,
      EncoderSettings settings,
      Configuration conf,
      PrintStream progress,
      int cachedCount) {
    long started = System.nanoTime();
    long lastPrint = 0;
    try (ImageEncoder encoder = ImageEncoder.load(settings, conf)) {
      if (progress != null) {
        progress.printf(
            Locale.ROOT,
            "images: embedding %d new of %d (%d cached) with %s%n",
            missing.size(),
            missing.size() + cachedCount,
            cachedCount,
            settings.model());
      }
      for (int from = 0; from < missing.size(); from += settings.batchSize()) {
        List<Item> batch =
            missing.subList(from, Math.min(missing.size(), from + settings.batchSize()));
        List<float[]> pixels = new ArrayList<>(batch.size());
        for (Item item : batch) {
          byte[] bytes = read(item.file, conf);
          pixels.add(
              encoder
                  .preprocessor()
                  .preprocess(ClipPreprocessor.decode(new ByteArrayInputStream(bytes), item.file)));
        }
        List<float[]> embeddings = encoder.embedPreprocessed(pixels);
        for (int i = 0; i < batch.size(); i++) {
          Item item = batch.get(i);
          item.embedding = embeddings.get(i);
          store(folder, item.hash, item.embedding);
        }
        int done = from + batch.size();
        long now = System.nanoTime();
        if (progress != null
            && (done == missing.size() || (now - lastPrint) / 1_000_000 >= PROGRESS_MILLIS)) {
          lastPrint = now;
          double seconds = (now - started) / 1e9;
          progress.printf(
              Locale.ROOT,
              "images: embedded %d/%d (%.0f%%, %.1f images/s)%n",
              done,
              missing.size(),
              100.0 * done / missing.size(),
              seconds > 0 ? done / seconds : 0.0);
        }
      }
    }
  }

  /**
   * The cache folder name of an encoder: 32 hex digits of SHA-256 over the cache format, the
   * engine, the input size and the model's content (every file of a model folder, by relative
   * path).
   */
  static String encoderKey(Path model, EncoderSettings settings) {
    MessageDigest digest = sha256();
    digest.update(
        (CACHE_FORMAT
                + "\nengine="
                + settings.engine()
                + "\nimage-size="
                + settings.imageSize()
                + "\n")
            .getBytes(StandardCharsets.UTF_8));
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(model)) {
      try (Stream<Path> walk = Files.walk(model)) {
        walk.filter(Files::isRegularFile).sorted().forEach(files::add);
      } catch (IOException e) {
        throw new InvalidInputException(
            model.toString(), "cannot list encoder model folder: " + e.getMessage(), e);
      }
    } else {
      files.add(model);
    }
    byte[] buffer = new byte[1 << 16];
    for (Path file : files) {
      digest.update(
          (model.relativize(file) + "\n").getBytes(StandardCharsets.UTF_8)); // "" for a file
      try (InputStream in = Files.newInputStream(file)) {
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          digest.update(buffer, 0, n);
        }
      } catch (IOException e) {
        throw new InvalidInputException(
            file.toString(), "cannot read encoder model: " + e.getMessage(), e);
      }
    }
    return HexFormat.of().formatHex(digest.digest(), 0, 16);
  }

  /** The cached embedding of the image with content hash {@code hash}, or null. */
  static float[] cached(Path folder, String hash) {
    Path file = cacheFile(folder, hash);
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      Npy.Array array = Npy.read(file);
      if (array.shape().length != 2 || array.rows() != 1 || array.columns() < 1) {
        return null;
      }
      float[] values = new float[array.columns()];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) array.values()[i];
        if (!Float.isFinite(values[i])) {
          return null;
        }
      }
      return values;
    } catch (RuntimeException unreadable) {
      return null; // a damaged cache entry is embedded again
    }
  }

  static Path cacheFile(Path folder, String hash) {
    return folder.resolve(hash.substring(0, 2)).resolve(hash + ".npy");
  }

  private static void store(Path folder, String hash, float[] embedding) {
    Path file = cacheFile(folder, hash);
    Path partial = file.resolveSibling("." + hash + "." + UUID.randomUUID() + ".tmp");
    try {
      Files.createDirectories(file.getParent());
      try {
        Npy.writeFloat32(partial, embedding, 1, embedding.length);
        Files.move(
            partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(partial);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the embedding cache file " + file + ": " + e.getMessage(), e);
    }
  }

  private static byte[] read(String file, Configuration conf) {
    org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(file);
    try {
      FileSystem fs = path.getFileSystem(conf);
      try (InputStream in = fs.open(path)) {
        return in.readAllBytes();
      }
    } catch (IOException e) {
      throw new InvalidInputException(file, "cannot read image: " + e.getMessage(), e);
    }
  }

  private static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(sha256().digest(bytes));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One image: where it is, its class, its content hash, its embedding once known. */
  private static final class Item {
    final String file;
    final int classId;
    String hash;
    float[] embedding;

    Item(String file, int classId) {
      this.file = file;
      this.classId = classId;
    }
  }
}
