package fedlake.edge;

import fedlake.core.cli.Args;
import fedlake.core.cli.Option;
import fedlake.core.data.Dataset;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * {@code edge train --images DIR --encoder MODEL}: the site's raw images embedded on the site by
 * the encoder module's {@code fedlake.encoder.SiteImages}, found by name at run time. Only the
 * images variant of the edge runner carries that module, DJL and PyTorch; the base variant has no
 * compile-time or run-time dependency on them and says so when {@code --images} is given.
 */
final class EdgeImages {
  /** The class of the encoder module that embeds a site's images with a cache. */
  static final String IMPLEMENTATION = "fedlake.encoder.SiteImages";

  /** Default input side of the encoder (CLIP ViT-B/32). */
  static final int IMAGE_SIZE_DEFAULT = 224;

  /** The options of {@code edge train --images}. */
  static final List<Option> OPTIONS =
      List.of(
          Option.value(
              "images",
              "DIR",
              "raw images, DIR/<class>/*.png|jpg|jpeg, embedded here with --encoder (images variant"
                  + " only); class ids: numbered folders keep their number, else --classnames, else"
                  + " sorted folder names get 0, 1, ..."),
          Option.value(
              "encoder",
              "PATH_OR_URL",
              "frozen image encoder: TorchScript .pt file, local path, file:, http(s): or s3a:// (see docs/images.md)"),
          Option.value(
              "cache",
              "DIR",
              "embedding cache, keyed by image content and encoder (default STATE_DIR/embeddings)"),
          Option.value(
              "classnames",
              "FILE",
              "class names, line i naming class i; folders match a name or a class id"),
          Option.value(
              "image-size",
              "S",
              "side of the encoder's square input (default " + IMAGE_SIZE_DEFAULT + ")"));

  private EdgeImages() {}

  /** What {@code --images} asks for; {@link #embed} runs it. */
  record Request(
      String images,
      String encoder,
      int imageSize,
      String classNames,
      Path cache,
      Method implementation) {

    /**
     * Embeds the images (cache under {@code cache}, else STATE_DIR/embeddings); class folders must
     * map below {@code classCount}.
     */
    Dataset embed(Path stateDir, int classCount, Configuration conf, PrintStream progress) {
      Path folder = cache != null ? cache : stateDir.resolve("embeddings");
      try {
        return (Dataset)
            implementation.invoke(
                null, images, encoder, imageSize, classNames, folder, classCount, conf, progress);
      } catch (InvocationTargetException e) {
        if (e.getCause() instanceof RuntimeException runtime) {
          throw runtime;
        }
        if (e.getCause() instanceof Error error) {
          throw error;
        }
        throw new IllegalStateException("embedding " + images + " failed: " + e.getCause(), e);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot call " + IMPLEMENTATION + ".embed: " + e, e);
      }
    }
  }

  /**
   * The images request of a command line, or null when it trains on {@code --data}. Refuses {@code
   * --data} with {@code --images}, {@code --images} without {@code --encoder}, the image options
   * without {@code --images}, and {@code --images} in the base variant.
   */
  static Request request(Args args) {
    if (!args.has("images")) {
      for (String option : new String[] {"encoder", "cache", "classnames", "image-size"}) {
        if (args.has(option)) {
          throw new IllegalArgumentException("--" + option + " needs --images DIR");
        }
      }
      return null;
    }
    if (args.has("data")) {
      throw new IllegalArgumentException(
          "--data and --images exclude each other: train on embeddings (--data) or on images"
              + " (--images with --encoder)");
    }
    String images = args.required("images");
    if (!args.has("encoder")) {
      throw new IllegalArgumentException(
          "--images needs --encoder PATH_OR_URL, the frozen image encoder (TorchScript .pt)");
    }
    String encoder = args.required("encoder");
    int imageSize = args.integer("image-size", IMAGE_SIZE_DEFAULT);
    if (imageSize < 1) {
      throw new IllegalArgumentException("--image-size must be at least 1, got " + imageSize);
    }
    Method implementation = implementation();
    if (implementation == null) {
      throw new IllegalArgumentException(
          "--images needs the images variant of the edge runner (fedlake-edge-images-"
              + EdgeVersion.version()
              + ".tar.gz, with the image encoder and PyTorch); this is the base variant: install"
              + " the images variant, or embed elsewhere and pass --data");
    }
    return new Request(
        images,
        encoder,
        imageSize,
        args.string("classnames", null),
        args.has("cache") ? Path.of(args.required("cache")) : null,
        implementation);
  }

  /** The embedding entry point when the encoder module is on the class path, else null. */
  static Method implementation() {
    try {
      return Class.forName(IMPLEMENTATION)
          .getMethod(
              "embed",
              String.class,
              String.class,
              int.class,
              String.class,
              Path.class,
              int.class,
              Configuration.class,
              PrintStream.class);
    } catch (ClassNotFoundException | NoClassDefFoundError e) {
      return null;
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(
          IMPLEMENTATION + " has no embed method of this runner's version: mixed jars in lib/?", e);
    }
  }
}
