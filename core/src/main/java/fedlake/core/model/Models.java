package fedlake.core.model;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.strategy.Aggregate;
import fedlake.core.strategy.ServerState;
import fedlake.schema.Model;
import fedlake.schema.ModelKind;
import fedlake.schema.Update;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/** Building, converting and identifying models. */
public final class Models {
  /** {@link ModelKind#HEAD} as written in model and update files. */
  public static final String HEAD = "head";

  /** {@link ModelKind#CACHE} as written in model and update files. */
  public static final String CACHE = "cache";

  public static final float DEFAULT_LOGIT_SCALE = 10f;

  private Models() {}

  /** The kind of a model file's model; an unknown kind raises an error naming the model. */
  public static ModelKind kind(Model model) {
    for (ModelKind kind : ModelKind.values()) {
      if (kind.name().toLowerCase(java.util.Locale.ROOT).equals(model.getKind())) {
        return kind;
      }
    }
    throw new IllegalArgumentException(
        "Model "
            + model.getVersion()
            + " has unknown kind '"
            + model.getKind()
            + "' (expected '"
            + HEAD
            + "' or '"
            + CACHE
            + "')");
  }

  /** The head of a head model, or the head part of a cache model. */
  public static Head head(Model model) {
    return new Head(
        model.getDimension(),
        model.getClassCount(),
        model.getLogitScale(),
        FloatArrays.toArray(model.getWeights()),
        FloatArrays.toArray(model.getBias()));
  }

  /** The cache model a {@code cache} model file holds; rejects other kinds. */
  public static CacheModel cache(Model model) {
    if (!CACHE.equals(model.getKind())) {
      throw new IllegalArgumentException(
          "Model "
              + model.getVersion()
              + " is a '"
              + model.getKind()
              + "' model, not a cache model");
    }
    int[] labels = model.getCacheLabels().stream().mapToInt(Integer::intValue).toArray();
    if ((long) labels.length * model.getDimension() != model.getCacheKeys().size()) {
      throw new IllegalArgumentException(
          "Model "
              + model.getVersion()
              + " has "
              + model.getCacheKeys().size()
              + " cache key values for "
              + labels.length
              + " labels of dimension "
              + model.getDimension());
    }
    return new CacheModel(
        head(model),
        FloatArrays.toArray(model.getCacheKeys()),
        labels,
        model.getCacheAlpha(),
        model.getCacheBeta());
  }

  /** The scoring side of a model of any kind: its {@link Head} or its {@link CacheModel}. */
  public static Classifier classifier(Model model) {
    return switch (kind(model)) {
      case HEAD -> head(model);
      case CACHE -> cache(model);
    };
  }

  /** The parameters an update carries, in the order of {@link #parameters(Model)}. */
  public static float[] parameters(Update update) {
    return concat(update.getWeights(), update.getBias(), update.getCacheKeys());
  }

  /** Number of trainable parameters of a model: weights, bias and cache keys. */
  public static int parameterCount(Model model) {
    return model.getWeights().size() + model.getBias().size() + model.getCacheKeys().size();
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
   * The model a strategy made from {@code base} for {@code round}: its parameters (laid out as
   * {@link #parameters(Model)}), its control variate (null keeps the base's) and its server state.
   * Its version is derived from its content, so the same aggregation always yields the same
   * version.
   */
  public static Model derive(
      Model base,
      Aggregate aggregate,
      int round,
      String strategy,
      int participants,
      int specVersion,
      long createdTime) {
    float[] parameters = aggregate.parameters();
    int w = base.getWeights().size();
    int b = base.getBias().size();
    if (parameters.length != parameterCount(base)) {
      throw new IllegalArgumentException(
          "Cannot derive a model from "
              + base.getVersion()
              + ": expected "
              + parameterCount(base)
              + " parameters, got "
              + parameters.length);
    }
    Model model =
        Model.newBuilder(base)
            .setRound(round)
            .setWeights(FloatArrays.asList(Arrays.copyOfRange(parameters, 0, w)))
            .setBias(FloatArrays.asList(Arrays.copyOfRange(parameters, w, w + b)))
            .setCacheKeys(
                FloatArrays.asList(Arrays.copyOfRange(parameters, w + b, parameters.length)))
            .setControlVariate(
                aggregate.controlVariate() == null
                    ? base.getControlVariate()
                    : FloatArrays.asList(aggregate.controlVariate()))
            .setServerState(ServerState.rows(aggregate.serverState()))
            .setParentVersion(base.getVersion())
            .setInitialization(null)
            .setStrategy(strategy)
            .setParticipants(participants)
            .setSpecVersion(specVersion)
            .setCreatedTime(Instant.ofEpochMilli(createdTime))
            .setVersion("")
            .build();
    model.setVersion(version(model));
    return model;
  }

  /**
   * {@code base} carried unchanged into {@code round} (a cluster no update came for): same
   * parameters and state.
   */
  public static Model carry(Model base, int round, int specVersion, long createdTime) {
    Model model =
        Model.newBuilder(base)
            .setRound(round)
            .setParentVersion(base.getVersion())
            .setInitialization(null)
            .setStrategy(null)
            .setParticipants(0)
            .setSpecVersion(specVersion)
            .setCreatedTime(Instant.ofEpochMilli(createdTime))
            .setVersion("")
            .build();
    model.setVersion(version(model));
    return model;
  }

  /**
   * An initial head model for round 0; {@code initialization} says how it was made (zeros,
   * zero-shot, synthetic); {@code scaffold} adds a zero control variate.
   */
  public static Model initialHead(
      Head head, int cluster, String initialization, boolean scaffold, long createdTime) {
    Model model =
        Model.newBuilder()
            .setVersion("")
            .setKind(HEAD)
            .setRound(0)
            .setCluster(cluster)
            .setDimension(head.dimension())
            .setClassCount(head.classCount())
            .setLogitScale(head.logitScale())
            .setWeights(FloatArrays.asList(head.weights().clone()))
            .setBias(FloatArrays.asList(head.bias().clone()))
            .setControlVariate(
                FloatArrays.asList(
                    scaffold
                        ? new float[head.weights().length + head.bias().length]
                        : new float[0]))
            .setParentVersion(null)
            .setInitialization(initialization)
            .setStrategy(null)
            .setParticipants(0)
            .setCreatedTime(java.time.Instant.ofEpochMilli(createdTime))
            .build();
    model.setVersion(version(model));
    return model;
  }

  /**
   * An initial cache model for round 0: keys are the rows of {@code keys} (L2-normalised), values
   * their labels, the head part {@code head} (a zero-shot text classifier or zeros). {@code
   * scaffold} adds a zero control variate over weights, bias and keys.
   */
  public static Model initialCache(
      CacheModel cache, int cluster, String initialization, boolean scaffold, long createdTime) {
    Head head = cache.head();
    int trainable = head.weights().length + head.bias().length + cache.keys().length;
    Model model =
        Model.newBuilder()
            .setVersion("")
            .setKind(CACHE)
            .setRound(0)
            .setCluster(cluster)
            .setDimension(head.dimension())
            .setClassCount(head.classCount())
            .setLogitScale(head.logitScale())
            .setWeights(FloatArrays.asList(head.weights().clone()))
            .setBias(FloatArrays.asList(head.bias().clone()))
            .setCacheKeys(FloatArrays.asList(cache.keys().clone()))
            .setCacheLabels(java.util.Arrays.stream(cache.labels()).boxed().toList())
            .setCacheAlpha(cache.alpha())
            .setCacheBeta(cache.beta())
            .setControlVariate(FloatArrays.asList(scaffold ? new float[trainable] : new float[0]))
            .setParentVersion(null)
            .setInitialization(initialization)
            .setStrategy(null)
            .setParticipants(0)
            .setCreatedTime(java.time.Instant.ofEpochMilli(createdTime))
            .build();
    model.setVersion(version(model));
    return model;
  }

  /**
   * A cache whose keys are the labelled rows of {@code keys} (already L2-normalised by {@link
   * Dataset}) and whose head part is {@code head}. Rejects unlabelled rows and labels the head
   * cannot score, naming the keys' file.
   */
  public static CacheModel cacheOf(Dataset keys, Head head, float alpha, float beta) {
    if (keys.dimension() != head.dimension()) {
      throw new InvalidInputException(
          keys.source(),
          "keys have dimension " + keys.dimension() + ", the model has " + head.dimension());
    }
    if (keys.size() == 0) {
      throw new InvalidInputException(keys.source(), "holds no keys");
    }
    keys.requireLabelsBelow(head.classCount());
    return new CacheModel(head, keys.features().clone(), keys.labels().clone(), alpha, beta);
  }

  /**
   * {@code r<round>-c<cluster>-<12 hex digits of SHA-256 over kind, shape, parent and parameters>}.
   */
  public static String version(Model model) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(
          (model.getKind()
                  + "|"
                  + model.getDimension()
                  + "|"
                  + model.getClassCount()
                  + "|"
                  + model.getLogitScale()
                  + "|"
                  + model.getParentVersion()
                  + "|"
                  + model.getCacheLabels()
                  + "|"
                  + model.getCacheAlpha()
                  + "|"
                  + model.getCacheBeta()
                  + "|")
              .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      List<float[]> vectors =
          new java.util.ArrayList<>(
              List.of(parameters(model), FloatArrays.toArray(model.getControlVariate())));
      for (fedlake.schema.StateVector state : model.getServerState()) {
        digest.update(state.getName().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        vectors.add(FloatArrays.toArray(state.getValues()));
      }
      for (float[] values : vectors) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4);
        buffer.asFloatBuffer().put(values);
        digest.update(buffer.array());
      }
      return "r"
          + model.getRound()
          + "-c"
          + model.getCluster()
          + "-"
          + HexFormat.of().formatHex(digest.digest(), 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
