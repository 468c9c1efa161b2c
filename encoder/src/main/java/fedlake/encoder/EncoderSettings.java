package fedlake.encoder;

import java.io.Serializable;
import java.util.Locale;

/**
 * Everything needed to load an image encoder anywhere: small and serializable, so a Spark job ships
 * this and each executor loads the model itself ({@link ImageEncoder#shared}).
 *
 * @param model local path of the model file (or of a folder holding it), or a URL DJL can fetch
 *     ({@code file:}, {@code http(s):}, {@code jar:})
 * @param engine DJL engine that runs the model: {@code PyTorch} for TorchScript ({@code .pt}),
 *     {@code OnnxRuntime} for {@code .onnx} (that engine is not bundled, see docs/images.md)
 * @param imageSize side of the square input the model expects (224 for CLIP ViT-B/32)
 * @param batchSize images per forward pass
 */
public record EncoderSettings(String model, String engine, int imageSize, int batchSize)
    implements Serializable {
  public static final String PYTORCH = "PyTorch";
  public static final String ONNX_RUNTIME = "OnnxRuntime";
  public static final int BATCH_SIZE_DEFAULT = 32;

  public EncoderSettings {
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("encoder model location must not be empty");
    }
    if (engine == null || engine.isBlank()) {
      throw new IllegalArgumentException(
          "encoder engine must not be empty (PyTorch or OnnxRuntime)");
    }
    if (imageSize < 1) {
      throw new IllegalArgumentException("encoder image size must be at least 1, got " + imageSize);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("encoder batch size must be at least 1, got " + batchSize);
    }
  }

  /**
   * Settings for {@code model} with the engine its extension implies, 224-pixel inputs and batches
   * of 32.
   */
  public static EncoderSettings of(String model) {
    return new EncoderSettings(
        model, engineFor(model), ClipPreprocessor.DEFAULT_SIZE, BATCH_SIZE_DEFAULT);
  }

  public EncoderSettings withEngine(String value) {
    return new EncoderSettings(model, value, imageSize, batchSize);
  }

  public EncoderSettings withImageSize(int value) {
    return new EncoderSettings(model, engine, value, batchSize);
  }

  public EncoderSettings withBatchSize(int value) {
    return new EncoderSettings(model, engine, imageSize, value);
  }

  /** {@code OnnxRuntime} for a {@code .onnx} file, {@code PyTorch} otherwise. */
  public static String engineFor(String model) {
    return model != null && model.toLowerCase(Locale.ROOT).endsWith(".onnx")
        ? ONNX_RUNTIME
        : PYTORCH;
  }
}
