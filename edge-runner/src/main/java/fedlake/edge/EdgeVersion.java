package fedlake.edge;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The edge runner's build version (from {@code fedlake/edge/version.properties}, filled in by the
 * build) and its variant: {@code images} when the image encoder is on the class path, else {@code
 * base}.
 */
final class EdgeVersion {
  private EdgeVersion() {}

  /** The Maven version the runner was built as, e.g. {@code 0.1.0-SNAPSHOT}. */
  static String version() {
    Properties properties = new Properties();
    try (InputStream in = EdgeVersion.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return properties.getProperty("version", "unknown");
  }

  /** {@code images} or {@code base} ({@code broken} when lib/ mixes jars of two builds). */
  static String variant() {
    try {
      return EdgeImages.implementation() != null ? "images" : "base";
    } catch (IllegalStateException mixed) {
      return "broken";
    }
  }

  /** The {@code --version} line. */
  static String describe() {
    return "fedlake-edge "
        + version()
        + " ("
        + variant()
        + " variant"
        + switch (variant()) {
          case "images" -> ": trains on --data or embeds --images with the PyTorch engine";
          case "base" -> ": trains on --data embeddings; --images needs the images variant";
          default -> ": the encoder jar in lib/ is of another build; reinstall the archive";
        }
        + "; update format of runner "
        + EdgeTrain.VERSION
        + ")";
  }
}
