package fedlake.encoder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a small TorchScript module file ({@code .pt}) without Python, in the archive layout that
 * {@code torch.jit.save} produces: {@code code/__torch__.py} holds the TorchScript source of the
 * module class, {@code data.pkl} a protocol-2 pickle of the module object whose tensors point to
 * raw little-endian storages under {@code data/}. Tests and demos save a small encoder with it and
 * load it back through DJL exactly as a real CLIP export is loaded ({@link ImageEncoder#load}), so
 * they exercise the production loading path without downloading weights.
 *
 * <p>The module built by {@link #quadrantLinear}: {@code x[N,3,H,W] -> adaptive_avg_pool2d(2x2) ->
 * flatten (index c*4 + row*2 + column) -> linear(weight[D,12], bias[D])}, whose answer the tests
 * compute by hand from the preprocessed pixels.
 */
public final class TinyTorchScript {
  private final String className;
  private final String forwardSource;
  private final Map<String, float[]> tensors = new LinkedHashMap<>();
  private final Map<String, long[]> shapes = new LinkedHashMap<>();

  /**
   * The quadrant-mean + linear encoder with {@code dimension} outputs and weights drawn from a
   * standard normal distribution seeded by {@code seed}.
   */
  public static TinyTorchScript quadrantLinear(int dimension, long seed) {
    java.util.Random random = new java.util.Random(seed);
    float[][] weight = new float[dimension][12];
    float[] bias = new float[dimension];
    for (int row = 0; row < dimension; row++) {
      for (int column = 0; column < 12; column++) {
        weight[row][column] = (float) random.nextGaussian();
      }
      bias[row] = (float) (0.1 * random.nextGaussian());
    }
    return quadrantLinear(weight, bias);
  }

  /**
   * A synthetic encoder with about the compute of CLIP ViT-B/32 (4.4 GFLOPs per image) for
   * throughput measurements, not for accuracy: 32x32 patches of a 224 image projected to {@code
   * width} channels (49 tokens), {@code layers} residual MLP blocks ({@code width -> 4 width ->
   * width}, GELU), mean over tokens, linear to {@code output}. Width 768, 12 layers: 5.5 GFLOPs and
   * 61M parameters (a 245 MB file). Weights are seeded normal, scaled by 1/sqrt(fan-in).
   */
  public static TinyTorchScript patchMlp(int width, int layers, int output, long seed) {
    java.util.Random random = new java.util.Random(seed);
    StringBuilder code =
        new StringBuilder(
            String.join(
                "\n",
                "  def forward(self: __torch__.PatchMlp,",
                "    x: Tensor) -> Tensor:",
                "    patches = torch.conv2d(x, self.patch, None, [32, 32])",
                "    h = torch.transpose(torch.flatten(patches, 2), 1, 2)",
                ""));
    TinyTorchScript module = new TinyTorchScript("PatchMlp", null);
    module.parameter(
        "patch", new long[] {width, 3, 32, 32}, gaussian(random, width * 3 * 32 * 32, 3 * 32 * 32));
    for (int layer = 0; layer < layers; layer++) {
      module.parameter(
          "up" + layer, new long[] {4L * width, width}, gaussian(random, 4 * width * width, width));
      module.parameter(
          "down" + layer,
          new long[] {width, 4L * width},
          gaussian(random, 4 * width * width, 4 * width));
      code.append("    h = torch.add(h, torch.linear(torch.gelu(torch.linear(h, self.up")
          .append(layer)
          .append(")), self.down")
          .append(layer)
          .append("))\n");
    }
    module.parameter("head", new long[] {output, width}, gaussian(random, output * width, width));
    code.append("    return torch.linear(torch.mean(h, [1]), self.head)\n");
    return new TinyTorchScript("PatchMlp", code.toString(), module.tensors, module.shapes);
  }

  private static float[] gaussian(java.util.Random random, int count, int fanIn) {
    float[] values = new float[count];
    double scale = 1.0 / Math.sqrt(fanIn);
    for (int i = 0; i < count; i++) {
      values[i] = (float) (random.nextGaussian() * scale);
    }
    return values;
  }

  private TinyTorchScript(
      String className,
      String forwardSource,
      Map<String, float[]> tensors,
      Map<String, long[]> shapes) {
    this(className, forwardSource);
    this.tensors.putAll(tensors);
    this.shapes.putAll(shapes);
  }

  /** The values of parameter {@code name} ({@code weight} row by row, or {@code bias}). */
  public float[] parameter(String name) {
    float[] values = tensors.get(name);
    if (values == null) {
      throw new IllegalArgumentException("no parameter '" + name + "', have " + tensors.keySet());
    }
    return values.clone();
  }

  private TinyTorchScript(String className, String forwardSource) {
    this.className = className;
    this.forwardSource = forwardSource;
  }

  /**
   * The quadrant-mean + linear encoder described in the class comment.
   *
   * @param weight D rows of 12 values (index {@code channel * 4 + row * 2 + column} of the 2x2
   *     grid)
   * @param bias D values
   */
  public static TinyTorchScript quadrantLinear(float[][] weight, float[] bias) {
    if (weight.length == 0 || weight.length != bias.length) {
      throw new IllegalArgumentException(
          "weight has "
              + weight.length
              + " rows, bias "
              + bias.length
              + " values; expected the same, at least 1");
    }
    String forward =
        String.join(
            "\n",
            "  def forward(self: __torch__.QuadrantLinear,",
            "    x: Tensor) -> Tensor:",
            "    pooled = torch.adaptive_avg_pool2d(x, [2, 2])",
            "    flat = torch.flatten(pooled, 1)",
            "    return torch.linear(flat, self.weight, self.bias)",
            "");
    TinyTorchScript module = new TinyTorchScript("QuadrantLinear", forward);
    float[] flat = new float[weight.length * weight[0].length];
    for (int row = 0; row < weight.length; row++) {
      System.arraycopy(weight[row], 0, flat, row * weight[0].length, weight[0].length);
    }
    module.parameter("weight", new long[] {weight.length, weight[0].length}, flat);
    module.parameter("bias", new long[] {bias.length}, bias);
    return module;
  }

  private void parameter(String name, long[] shape, float[] values) {
    tensors.put(name, values);
    shapes.put(name, shape);
  }

  /** Writes the module to {@code file} as a TorchScript zip archive. */
  public void save(Path file) throws IOException {
    String archive = "encoder";
    try (OutputStream out = Files.newOutputStream(file);
        ZipOutputStream zip = new ZipOutputStream(out)) {
      store(zip, archive + "/data.pkl", modulePickle());
      store(zip, archive + "/code/__torch__.py", source().getBytes(StandardCharsets.UTF_8));
      store(zip, archive + "/constants.pkl", new Pickle().proto().emptyTuple().stop().bytes());
      int key = 0;
      for (float[] values : tensors.values()) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        store(zip, archive + "/data/" + key++, buffer.array());
      }
      store(zip, archive + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    }
  }

  private String source() {
    StringBuilder parameters = new StringBuilder();
    StringBuilder annotations = new StringBuilder();
    for (String name : tensors.keySet()) {
      parameters.append('"').append(name).append("\", ");
      annotations.append("  ").append(name).append(" : Tensor\n");
    }
    return "class "
        + className
        + "(Module):\n"
        + "  __parameters__ = ["
        + parameters
        + "]\n"
        + "  __buffers__ = []\n"
        + annotations
        + "  training : bool\n"
        + forwardSource;
  }

  private byte[] modulePickle() {
    Pickle p =
        new Pickle()
            .proto()
            .global("__torch__", className)
            .emptyTuple()
            .newObject()
            .emptyDict()
            .mark();
    p.string("training").bool(false);
    int key = 0;
    for (Map.Entry<String, float[]> tensor : tensors.entrySet()) {
      p.string(tensor.getKey());
      long[] shape = shapes.get(tensor.getKey());
      p.global("torch._utils", "_rebuild_tensor_v2").mark();
      p.mark()
          .string("storage")
          .global("torch", "FloatStorage")
          .string(Integer.toString(key++))
          .string("cpu")
          .integer(tensor.getValue().length)
          .tuple()
          .persistentId();
      p.integer(0);
      p.mark();
      for (long size : shape) {
        p.integer((int) size);
      }
      p.tuple().mark();
      long stride = 1;
      long[] strides = new long[shape.length];
      for (int i = shape.length - 1; i >= 0; i--) {
        strides[i] = stride;
        stride *= shape[i];
      }
      for (long s : strides) {
        p.integer((int) s);
      }
      p.tuple().bool(false).global("collections", "OrderedDict").emptyTuple().reduce();
      p.tuple().reduce();
    }
    return p.setItems().build().stop().bytes();
  }

  private static void store(ZipOutputStream zip, String name, byte[] data) throws IOException {
    ZipEntry entry = new ZipEntry(name);
    entry.setMethod(ZipEntry.STORED);
    entry.setSize(data.length);
    entry.setCompressedSize(data.length);
    CRC32 crc = new CRC32();
    crc.update(data);
    entry.setCrc(crc.getValue());
    zip.putNextEntry(entry);
    zip.write(data);
    zip.closeEntry();
  }

  /** The subset of pickle protocol 2 that TorchScript's unpickler reads. */
  private static final class Pickle {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle proto() {
      out.write(0x80);
      out.write(2);
      return this;
    }

    Pickle global(String module, String name) {
      out.write('c');
      out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
      return this;
    }

    Pickle emptyTuple() {
      out.write(')');
      return this;
    }

    Pickle emptyDict() {
      out.write('}');
      return this;
    }

    Pickle newObject() {
      out.write(0x81);
      return this;
    }

    Pickle mark() {
      out.write('(');
      return this;
    }

    Pickle tuple() {
      out.write('t');
      return this;
    }

    Pickle setItems() {
      out.write('u');
      return this;
    }

    Pickle build() {
      out.write('b');
      return this;
    }

    Pickle reduce() {
      out.write('R');
      return this;
    }

    Pickle persistentId() {
      out.write('Q');
      return this;
    }

    Pickle stop() {
      out.write('.');
      return this;
    }

    Pickle bool(boolean value) {
      out.write(value ? 0x88 : 0x89);
      return this;
    }

    Pickle integer(int value) {
      out.write('J');
      out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
      return this;
    }

    Pickle string(String value) {
      byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
      out.write('X');
      out.writeBytes(
          ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(utf8.length).array());
      out.writeBytes(utf8);
      return this;
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
