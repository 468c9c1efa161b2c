package fedlake.encoder;

import fedlake.core.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Turns a model location into a local file DJL can load. A local path or {@code file:} URL is used
 * in place; any other URL ({@code http(s)}, or a Hadoop file system such as {@code s3a} or {@code
 * hdfs}) is downloaded once into a cache folder and reused from there, so each Spark executor host
 * fetches a model once. The cache key is the URL: publish a changed model under a new URL. Cache
 * folder: system property {@value #CACHE_PROPERTY}, else {@code java.io.tmpdir}/fedlake-models.
 */
public final class ModelFiles {
  public static final String CACHE_PROPERTY = "fedlake.encoder.cache";

  private ModelFiles() {}

  /** The local file or folder holding the model at {@code location}. */
  public static Path local(String location, Configuration conf) {
    return local(location, conf, cacheFolder());
  }

  /** As {@link #local(String, Configuration)}, downloading a URL into {@code cacheFolder}. */
  public static Path local(String location, Configuration conf, Path cacheFolder) {
    if (!isUrl(location)) {
      return Path.of(location).toAbsolutePath();
    }
    URI uri = URI.create(location);
    if ("file".equalsIgnoreCase(uri.getScheme())) {
      return Path.of(uri);
    }
    String name =
        Path.of(uri.getPath() == null || uri.getPath().isEmpty() ? "model" : uri.getPath())
            .getFileName()
            .toString();
    Path target = cacheFolder.resolve(sha256(location)).resolve(name);
    if (Files.isRegularFile(target)) {
      return target;
    }
    try {
      Files.createDirectories(target.getParent());
      Path partial = target.resolveSibling("." + name + "." + UUID.randomUUID() + ".part");
      try (InputStream in = open(uri, conf)) {
        Files.copy(in, partial);
        Files.move(
            partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(partial);
      }
      return target;
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(
          location,
          "cannot download encoder model ("
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage()
              + ")",
          e);
    }
  }

  /** True for {@code scheme:...} locations; a Windows drive letter ({@code C:\\...}) is a path. */
  public static boolean isUrl(String location) {
    int colon = location.indexOf(':');
    return colon > 1 && location.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*");
  }

  private static InputStream open(URI uri, Configuration conf) throws IOException {
    String scheme = uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (scheme.equals("http") || scheme.equals("https")) {
      URLConnection connection = uri.toURL().openConnection();
      connection.setConnectTimeout(30_000);
      connection.setReadTimeout(300_000);
      if (connection instanceof HttpURLConnection http && http.getResponseCode() != 200) {
        throw new IOException("HTTP " + http.getResponseCode() + " " + http.getResponseMessage());
      }
      return connection.getInputStream();
    }
    org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(uri);
    FileSystem fs = path.getFileSystem(conf == null ? new Configuration() : conf);
    return fs.open(path);
  }

  private static Path cacheFolder() {
    String configured = System.getProperty(CACHE_PROPERTY);
    return configured != null
        ? Path.of(configured)
        : Path.of(System.getProperty("java.io.tmpdir"), "fedlake-models");
  }

  private static String sha256(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
