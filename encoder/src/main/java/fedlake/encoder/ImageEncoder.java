package fedlake.encoder;

import ai.djl.Device;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslateException;
import ai.djl.translate.TranslatorContext;
import fedlake.core.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;

/**
 * A frozen image encoder: a TorchScript (or ONNX) model run through DJL on the CPU, fed with {@link
 * ClipPreprocessor CLIP-preprocessed} images, returning L2-normalised embeddings.
 *
 * <p>The model takes a float tensor {@code N x 3 x S x S} and returns {@code N x D} (any trailing
 * shape is flattened to D), as {@code torch.jit.trace(clip_model.visual, ...)} does. Loading runs
 * one all-zero image through the model, so a model that loads but does not accept CLIP input fails
 * at {@link #load} with the reason, not later in the middle of a job.
 *
 * <p>Thread-safe: the loaded model is shared, each call to {@code embed} uses its own predictor.
 * DJL runs offline ({@code ai.djl.offline=true} unless set otherwise): the PyTorch native library
 * comes from the {@code pytorch-native-cpu} jar on the classpath, nothing is downloaded.
 */
public final class ImageEncoder implements AutoCloseable {
  /**
   * DJL system property that forbids downloading native libraries; fedlake sets it to true when
   * unset.
   */
  public static final String OFFLINE_PROPERTY = "ai.djl.offline";

  private static final Map<EncoderSettings, ImageEncoder> SHARED = new ConcurrentHashMap<>();

  static {
    if (System.getProperty(OFFLINE_PROPERTY) == null) {
      System.setProperty(OFFLINE_PROPERTY, "true");
    }
  }

  private final EncoderSettings settings;
  private final ClipPreprocessor preprocessor;
  private final ZooModel<PixelBatch, float[][]> model;
  private final int dimension;

  private ImageEncoder(EncoderSettings settings, ZooModel<PixelBatch, float[][]> model) {
    this.settings = settings;
    this.preprocessor = new ClipPreprocessor(settings.imageSize());
    this.model = model;
    float[][] probe;
    try {
      probe = run(new PixelBatch(1, new float[preprocessor.valuesPerImage()]));
    } catch (RuntimeException e) {
      model.close();
      throw new InvalidInputException(
          settings.model(),
          "loaded, but running it on one 1x3x"
              + settings.imageSize()
              + "x"
              + settings.imageSize()
              + " image failed: "
              + firstLine(e),
          e);
    }
    this.dimension = probe[0].length;
  }

  /**
   * Loads the model of {@code settings}. A missing file, a file that is not a model for the engine,
   * or a model that cannot run on CLIP input raises {@link InvalidInputException} naming the model.
   */
  public static ImageEncoder load(EncoderSettings settings) {
    return load(settings, null);
  }

  /**
   * Like {@link #load(EncoderSettings)}; {@code conf} (may be null) holds the Hadoop settings used
   * to download a model from a Hadoop file system URL such as {@code s3a://bucket/clip.pt}.
   */
  public static ImageEncoder load(EncoderSettings settings, Configuration conf) {
    String location = settings.model();
    Path path = ModelFiles.local(location, conf);
    if (!Files.exists(path)) {
      throw new InvalidInputException(
          location, "cannot load encoder model: no such file or directory");
    }
    if (!ai.djl.engine.Engine.getAllEngines().contains(settings.engine())) {
      throw new InvalidInputException(
          location,
          "cannot load encoder model: the "
              + settings.engine()
              + " engine is not on the classpath (engines present: "
              + new java.util.TreeSet<>(ai.djl.engine.Engine.getAllEngines())
              + "; for .onnx models add ai.djl.onnxruntime:onnxruntime-engine, see docs/images.md)");
    }
    Criteria.Builder<PixelBatch, float[][]> criteria =
        Criteria.builder()
            .setTypes(PixelBatch.class, float[][].class)
            .optEngine(settings.engine())
            .optDevice(Device.cpu())
            .optTranslator(new PixelTranslator(settings.imageSize()));
    String fileName = path.getFileName() == null ? "" : path.getFileName().toString();
    String extension = settings.engine().equals(EncoderSettings.PYTORCH) ? ".pt" : ".onnx";
    if (Files.isRegularFile(path)
        && fileName.endsWith(extension)
        && fileName.length() > extension.length()) {
      // the folder plus the model name, which DJL resolves to NAME.pt, without its "non-archive
      // file" warning
      criteria
          .optModelPath(path.getParent())
          .optModelName(fileName.substring(0, fileName.length() - extension.length()));
    } else {
      criteria.optModelPath(path);
    }
    if (settings.engine().equals(EncoderSettings.PYTORCH)) {
      // weights saved from a GPU are mapped to the CPU instead of failing
      criteria.optOption("mapLocation", "true");
    }
    ZooModel<PixelBatch, float[][]> model;
    try {
      model = criteria.build().loadModel();
    } catch (Exception | UnsatisfiedLinkError e) {
      throw new InvalidInputException(
          location,
          "cannot load encoder model with the "
              + settings.engine()
              + " engine ("
              + (settings.engine().equals(EncoderSettings.PYTORCH)
                  ? "expects a TorchScript .pt file"
                  : "expects an .onnx file")
              + "): "
              + firstLine(e),
          e);
    }
    return new ImageEncoder(settings, model);
  }

  /**
   * The encoder of {@code settings} loaded once per JVM (a Spark executor) and kept until the JVM
   * exits. A failed load is not remembered: the next call tries again.
   */
  public static ImageEncoder shared(EncoderSettings settings, Configuration conf) {
    return SHARED.computeIfAbsent(settings, key -> load(key, conf));
  }

  public EncoderSettings settings() {
    return settings;
  }

  public ClipPreprocessor preprocessor() {
    return preprocessor;
  }

  /** Length of the embeddings. */
  public int dimension() {
    return dimension;
  }

  /** Embeds one image file. */
  public float[] embed(Path imageFile) {
    return embedFiles(List.of(imageFile)).get(0);
  }

  /**
   * Embeds image files in batches of {@code settings.batchSize()}; results follow the input order.
   */
  public List<float[]> embedFiles(List<Path> imageFiles) {
    List<float[]> embeddings = new ArrayList<>(imageFiles.size());
    for (int from = 0; from < imageFiles.size(); from += settings.batchSize()) {
      List<float[]> pixels = new ArrayList<>();
      for (Path file :
          imageFiles.subList(from, Math.min(imageFiles.size(), from + settings.batchSize()))) {
        pixels.add(preprocessor.preprocess(file));
      }
      embeddings.addAll(embedPreprocessed(pixels));
    }
    return embeddings;
  }

  /**
   * Embeds already preprocessed images ({@link ClipPreprocessor#preprocess}, {@code 3 x S x S}
   * floats each) in one forward pass; returns one L2-normalised embedding per image.
   */
  public List<float[]> embedPreprocessed(List<float[]> images) {
    if (images.isEmpty()) {
      return List.of();
    }
    int values = preprocessor.valuesPerImage();
    float[] pixels = new float[images.size() * values];
    for (int i = 0; i < images.size(); i++) {
      if (images.get(i).length != values) {
        throw new IllegalArgumentException(
            "preprocessed image "
                + i
                + " has "
                + images.get(i).length
                + " values, expected "
                + values);
      }
      System.arraycopy(images.get(i), 0, pixels, i * values, values);
    }
    float[][] raw = run(new PixelBatch(images.size(), pixels));
    if (raw.length != images.size()) {
      throw new IllegalStateException(
          "encoder "
              + settings.model()
              + " returned "
              + raw.length
              + " rows for "
              + images.size()
              + " images");
    }
    List<float[]> embeddings = new ArrayList<>(raw.length);
    for (float[] row : raw) {
      if (row.length != dimension) {
        throw new IllegalStateException(
            "encoder "
                + settings.model()
                + " returned "
                + row.length
                + " values per image, earlier "
                + dimension);
      }
      embeddings.add(normalise(row));
    }
    return embeddings;
  }

  private float[][] run(PixelBatch batch) {
    try (Predictor<PixelBatch, float[][]> predictor = model.newPredictor()) {
      return predictor.predict(batch);
    } catch (TranslateException e) {
      throw new IllegalStateException(
          "encoder "
              + settings.model()
              + " failed on a batch of "
              + batch.count()
              + " images: "
              + firstLine(e),
          e);
    }
  }

  /** {@code values / |values|}; a zero vector stays zero. */
  public static float[] normalise(float[] values) {
    double sum = 0;
    for (float v : values) {
      sum += (double) v * v;
    }
    float[] out = values.clone();
    if (sum > 0) {
      double scale = 1.0 / Math.sqrt(sum);
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) (out[i] * scale);
      }
    }
    return out;
  }

  @Override
  public void close() {
    SHARED.remove(settings, this);
    model.close();
  }

  /**
   * First line of the deepest message in the cause chain: PyTorch errors carry a C++ trace after
   * it.
   */
  static String firstLine(Throwable error) {
    String message = null;
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        message = t.getClass().getSimpleName() + ": " + t.getMessage();
      }
    }
    if (message == null) {
      return error.getClass().getSimpleName();
    }
    for (String line : message.split("\\R")) {
      if (!line.isBlank()) {
        return line.strip();
      }
    }
    return message.strip();
  }

  /** {@code count} preprocessed images packed one after another. */
  record PixelBatch(int count, float[] pixels) {}

  /** Turns a pixel batch into an {@code N x 3 x S x S} tensor and the model output into rows. */
  private static final class PixelTranslator
      implements NoBatchifyTranslator<PixelBatch, float[][]> {
    private final int size;

    PixelTranslator(int size) {
      this.size = size;
    }

    @Override
    public NDList processInput(TranslatorContext ctx, PixelBatch batch) {
      return new NDList(
          ctx.getNDManager().create(batch.pixels(), new Shape(batch.count(), 3, size, size)));
    }

    @Override
    public float[][] processOutput(TranslatorContext ctx, NDList list) {
      NDArray output = list.get(0);
      long rows = output.getShape().dimension() == 0 ? 1 : output.getShape().get(0);
      float[] flat = output.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
      if (rows < 1 || flat.length % rows != 0) {
        throw new IllegalStateException(
            "model output has shape " + output.getShape() + ", expected one row per image");
      }
      int dimension = (int) (flat.length / rows);
      float[][] out = new float[(int) rows][dimension];
      for (int r = 0; r < rows; r++) {
        System.arraycopy(flat, r * dimension, out[r], 0, dimension);
      }
      return out;
    }
  }
}
