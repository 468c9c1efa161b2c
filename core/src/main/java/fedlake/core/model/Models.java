package fedlake.core.model;

import fedlake.schema.Model;
import fedlake.schema.Update;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** Building, converting and identifying models. */
public final class Models {
  public static final String HEAD = "head";
  public static final String CACHE = "cache";
  public static final float DEFAULT_LOGIT_SCALE = 10f;

  private Models() {}

  public static Head head(Model model) {
    return new Head(model.getDimension(), model.getClassCount(), model.getLogitScale(),
        FloatArrays.toArray(model.getWeights()), FloatArrays.toArray(model.getBias()));
  }

  /** The parameters an update carries, in the order of {@link #parameters(Model)}. */
  public static float[] parameters(Update update) {
    return concat(update.getWeights(), update.getBias(), update.getCacheKeys());
  }

  /** All trainable parameters of a model, flattened: weights, bias, then cache keys. */
  public static float[] parameters(Model model) {
    return concat(model.getWeights(), model.getBias(), model.getCacheKeys());
  }

  private static float[] concat(List<Float> weights, List<Float> bias, List<Float> keys) {
    float[] all = new float[weights.size() + bias.size() + keys.size()];
    int i = 0;
    for (List<Float> part : List.of(weights, bias, keys)) {
      for (Float v : part) {
        all[i++] = v;
      }
    }
    return all;
  }

  /**
   * A new model of the same kind and shape as {@code base} holding {@code parameters} (laid out as
   * {@link #parameters(Model)}), for {@code round}. Its version is derived from its content, so the
   * same aggregation always yields the same version.
   */
  public static Model derive(Model base, float[] parameters, int round, String strategy, int participants, long createdTime) {
    return derive(base, parameters, null, round, strategy, participants, createdTime);
  }

  /** As {@link #derive(Model, float[], int, String, int, long)}, with a new control variate (null keeps the base's). */
  public static Model derive(Model base, float[] parameters, float[] controlVariate, int round, String strategy,
      int participants, long createdTime) {
    int w = base.getWeights().size();
    int b = base.getBias().size();
    if (parameters.length != w + b + base.getCacheKeys().size()) {
      throw new IllegalArgumentException("Cannot derive a model from " + base.getVersion() + ": expected "
          + (w + b + base.getCacheKeys().size()) + " parameters, got " + parameters.length);
    }
    Model model = Model.newBuilder(base)
        .setRound(round)
        .setWeights(FloatArrays.asList(java.util.Arrays.copyOfRange(parameters, 0, w)))
        .setBias(FloatArrays.asList(java.util.Arrays.copyOfRange(parameters, w, w + b)))
        .setCacheKeys(FloatArrays.asList(java.util.Arrays.copyOfRange(parameters, w + b, parameters.length)))
        .setControlVariate(controlVariate == null ? base.getControlVariate() : FloatArrays.asList(controlVariate))
        .setParentVersion(base.getVersion())
        .setStrategy(strategy)
        .setParticipants(participants)
        .setCreatedTime(java.time.Instant.ofEpochMilli(createdTime))
        .setVersion("")
        .build();
    model.setVersion(version(model));
    return model;
  }

  /** An initial head model for round 0; {@code scaffold} adds a zero control variate. */
  public static Model initialHead(Head head, int cluster, String strategy, boolean scaffold, long createdTime) {
    Model model = Model.newBuilder()
        .setVersion("")
        .setKind(HEAD)
        .setRound(0)
        .setCluster(cluster)
        .setDimension(head.dimension())
        .setClassCount(head.classCount())
        .setLogitScale(head.logitScale())
        .setWeights(FloatArrays.asList(head.weights().clone()))
        .setBias(FloatArrays.asList(head.bias().clone()))
        .setControlVariate(FloatArrays.asList(scaffold ? new float[head.weights().length + head.bias().length] : new float[0]))
        .setParentVersion(null)
        .setStrategy(strategy)
        .setParticipants(0)
        .setCreatedTime(java.time.Instant.ofEpochMilli(createdTime))
        .build();
    model.setVersion(version(model));
    return model;
  }

  /** {@code r<round>-c<cluster>-<12 hex digits of SHA-256 over kind, shape, parent and parameters>}. */
  public static String version(Model model) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update((model.getKind() + "|" + model.getDimension() + "|" + model.getClassCount() + "|"
          + model.getLogitScale() + "|" + model.getParentVersion() + "|" + model.getCacheLabels() + "|"
          + model.getCacheAlpha() + "|" + model.getCacheBeta() + "|").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      ByteBuffer buffer = ByteBuffer.allocate(4);
      for (float[] values : new float[][] {parameters(model), FloatArrays.toArray(model.getControlVariate())}) {
        for (float v : values) {
          buffer.clear();
          buffer.putFloat(v);
          digest.update(buffer.array());
        }
      }
      return "r" + model.getRound() + "-c" + model.getCluster() + "-" + HexFormat.of().formatHex(digest.digest(), 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
