package fedlake.core.spec;

import fedlake.core.InvalidInputException;
import fedlake.core.store.Store;
import fedlake.core.strategy.RobustSettings;
import fedlake.core.strategy.Strategies;
import fedlake.core.strategy.Strategy;
import fedlake.core.strategy.StrategySettings;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.ClientSpec;
import fedlake.schema.FederationSpec;
import fedlake.schema.ModelKind;
import fedlake.schema.ModelSpec;
import fedlake.schema.RobustnessSpec;
import fedlake.schema.RoundPolicySpec;
import fedlake.schema.StrategySpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * The federation spec in a store: {@code ROOT/spec/spec-000001.json}, {@code spec-000002.json}, ...
 * (Avro JSON of {@link FederationSpec}); the highest version is in force. Versions are never
 * rewritten: a change writes the next one, so the folder is the record of every change.
 */
public final class Specs {
  public static final String FOLDER = "spec";
  private static final Pattern FILE = Pattern.compile("spec-(\\d{6,})\\.json");

  /** Largest spec file read: a spec is a few hundred bytes. */
  private static final long MAX_BYTES = 1 << 20;

  private Specs() {}

  public static Path file(Store store, int version) {
    return new Path(store.path(FOLDER), String.format(Locale.ROOT, "spec-%06d.json", version));
  }

  /** The spec in force, or empty for a store made before specs existed (or with no federation). */
  public static Optional<FederationSpec> current(Store store) {
    int newest = 0;
    for (FileStatus status : store.listVisible(store.path(FOLDER), ".json")) {
      Matcher m = FILE.matcher(status.getPath().getName());
      if (m.matches()) {
        newest = Math.max(newest, Integer.parseInt(m.group(1)));
      }
    }
    return newest == 0 ? Optional.empty() : Optional.of(read(store, newest));
  }

  /** The spec in force, or an error telling the user to run init. */
  public static FederationSpec require(Store store) {
    return current(store)
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "No federation spec in "
                        + store.root()
                        + "/"
                        + FOLDER
                        + ": run 'fedlake init --store "
                        + store.root()
                        + " ...' first"));
  }

  public static FederationSpec read(Store store, int version) {
    Path file = file(store, version);
    try (InputStream in = store.fileSystem().open(file)) {
      byte[] bytes = in.readNBytes((int) MAX_BYTES + 1);
      if (bytes.length > MAX_BYTES) {
        throw new InvalidInputException(
            file.toString(), "is larger than " + MAX_BYTES + " bytes; not a federation spec");
      }
      FederationSpec spec = parse(new String(bytes, StandardCharsets.UTF_8), file.toString());
      if (spec.getSpecVersion() != version) {
        throw new InvalidInputException(
            file.toString(),
            "holds spec version " + spec.getSpecVersion() + ", its name says " + version);
      }
      return spec;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot read federation spec " + file + ": " + e.getMessage(), e);
    }
  }

  /** Parses Avro JSON; {@code source} names it in errors. */
  public static FederationSpec parse(String json, String source) {
    try {
      SpecificDatumReader<FederationSpec> reader = new SpecificDatumReader<>(FederationSpec.class);
      FederationSpec spec =
          reader.read(
              null,
              DecoderFactory.get()
                  .jsonDecoder(
                      FederationSpec.getClassSchema(),
                      // a file written before a field existed lacks it: take its default
                      JsonDefaults.fill(json, FederationSpec.getClassSchema())));
      check(spec);
      return spec;
    } catch (IOException | RuntimeException e) {
      if (e instanceof InvalidInputException invalid) {
        throw invalid;
      }
      throw new InvalidInputException(
          source, "is not a valid federation spec: " + e.getMessage(), e);
    }
  }

  public static String toJson(FederationSpec spec) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      JsonEncoder encoder =
          EncoderFactory.get().jsonEncoder(FederationSpec.getClassSchema(), out, true);
      new SpecificDatumWriter<>(FederationSpec.class).write(spec, encoder);
      encoder.flush();
      return out.toString(StandardCharsets.UTF_8) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes {@code spec} as the next version (its {@code specVersion} must be the current one plus
   * one, or 1 for a new federation). Refuses to replace a version another writer made first.
   */
  public static FederationSpec write(Store store, FederationSpec spec) {
    check(spec);
    int expected = current(store).map(s -> s.getSpecVersion() + 1).orElse(1);
    if (spec.getSpecVersion() != expected) {
      throw new IllegalStateException(
          "Cannot write spec version "
              + spec.getSpecVersion()
              + " to "
              + store.root()
              + ": the next version is "
              + expected);
    }
    Path target = file(store, spec.getSpecVersion());
    byte[] bytes = toJson(spec).getBytes(StandardCharsets.UTF_8);
    try {
      if (store.fileSystem().exists(target)) {
        throw new IllegalStateException(
            "Cannot write "
                + target
                + ": another change wrote this version first; run the change again");
      }
      store.writeAtomically(
          target,
          path -> {
            try (OutputStream out = store.fileSystem().create(path, true)) {
              out.write(bytes);
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot write federation spec " + target + ": " + e.getMessage(), e);
    }
    return spec;
  }

  /** The next version of {@code spec}, made by {@code change} (a command line, for the record). */
  public static FederationSpec.Builder next(FederationSpec spec, String change, long now) {
    return FederationSpec.newBuilder(spec)
        .setSpecVersion(spec.getSpecVersion() + 1)
        .setChange(change)
        .setCreatedTime(Instant.ofEpochMilli(now));
  }

  /**
   * A first spec with fedlake's defaults: FedAvg with plain SGD sites, the edge runner's default
   * training settings, default limits.
   */
  public static FederationSpec.Builder defaults(
      ModelKind kind, int dimension, int classCount, int clusters, String initialization) {
    return FederationSpec.newBuilder()
        .setSpecVersion(1)
        .setCreatedTime(Instant.now())
        .setChange("init")
        .setModel(
            ModelSpec.newBuilder()
                .setKind(kind)
                .setDimension(dimension)
                .setClassCount(classCount)
                .setClusters(clusters)
                .setInitialization(initialization)
                .build())
        .setStrategy(
            StrategySpec.newBuilder().setName("fedavg").setParameters(new HashMap<>()).build())
        .setClient(
            ClientSpec.newBuilder()
                .setAlgorithm(ClientAlgorithmName.SGD)
                .setEpochs(TrainSettings.EPOCHS_DEFAULT)
                .setBatchSize(TrainSettings.BATCH_SIZE_DEFAULT)
                .setLearningRate(TrainSettings.LEARNING_RATE_DEFAULT)
                .setMomentum(TrainSettings.MOMENTUM_DEFAULT)
                .setWeightDecay(TrainSettings.WEIGHT_DECAY_DEFAULT)
                .setProximalMu(0)
                .setBalancedLoss(false)
                .build())
        .setRobustness(RobustnessSpec.newBuilder().build())
        .setPrivacy(null)
        .setRoundPolicy(RoundPolicySpec.newBuilder().build());
  }

  /**
   * Sets the strategy and, where the strategy needs one, the client algorithm it requires (SCAFFOLD
   * sites for SCAFFOLD, PROX sites for FedProx); other strategies keep the client algorithm unless
   * it needs server support they do not give.
   */
  public static void setStrategy(
      FederationSpec.Builder spec, String name, Map<String, Double> parameters) {
    Strategy strategy = Strategies.named(name);
    StrategySettings.of(strategy, parameters);
    spec.setStrategy(
        StrategySpec.newBuilder().setName(name).setParameters(new HashMap<>(parameters)).build());
    ClientSpec client = ClientSpec.newBuilder(spec.getClient()).build();
    if (strategy.requiredClient() != null) {
      client.setAlgorithm(strategy.requiredClient());
    } else if (client.getAlgorithm() == ClientAlgorithmName.SCAFFOLD) {
      client.setAlgorithm(ClientAlgorithmName.SGD);
    }
    spec.setClient(client);
  }

  /** The spec's strategy. */
  public static Strategy strategy(FederationSpec spec) {
    return Strategies.named(spec.getStrategy().getName());
  }

  /** The spec's strategy parameters, checked, defaults filled in. */
  public static StrategySettings settings(FederationSpec spec) {
    Map<String, Double> given = new HashMap<>();
    given.putAll(spec.getStrategy().getParameters());
    return StrategySettings.of(strategy(spec), given);
  }

  /** Checks that the parts of a spec fit together; the message names the part. */
  public static void check(FederationSpec spec) {
    if (spec.getSpecVersion() < 1) {
      throw new IllegalArgumentException(
          "spec version must be at least 1, got " + spec.getSpecVersion());
    }
    ModelSpec model = spec.getModel();
    if (model.getDimension() < 1 || model.getClassCount() < 2 || model.getClusters() < 1) {
      throw new IllegalArgumentException(
          "model must have dimension >= 1, at least 2 classes and 1 cluster, got dimension "
              + model.getDimension()
              + ", "
              + model.getClassCount()
              + " classes, "
              + model.getClusters()
              + " clusters");
    }
    Strategy strategy = strategy(spec);
    settings(spec);
    ClientSpec client = spec.getClient();
    if (strategy.requiredClient() != null && strategy.requiredClient() != client.getAlgorithm()) {
      throw new IllegalArgumentException(
          "strategy "
              + strategy.name()
              + " needs "
              + strategy.requiredClient().name().toLowerCase(Locale.ROOT)
              + " sites, the spec's client algorithm is "
              + client.getAlgorithm().name().toLowerCase(Locale.ROOT));
    }
    if (client.getAlgorithm() == ClientAlgorithmName.SCAFFOLD
        && strategy.requiredClient() != ClientAlgorithmName.SCAFFOLD) {
      throw new IllegalArgumentException(
          "scaffold sites need the scaffold strategy (it keeps the server control variate), the spec's is "
              + strategy.name());
    }
    new TrainSettings(
        client.getEpochs(),
        client.getBatchSize(),
        client.getLearningRate(),
        client.getMomentum(),
        client.getWeightDecay(),
        0,
        client.getBalancedLoss());
    if (!(client.getProximalMu() >= 0) || !Double.isFinite(client.getProximalMu())) {
      throw new IllegalArgumentException("proximal mu must be >= 0, got " + client.getProximalMu());
    }
    fedlake.core.client.Personalisation.of(client.getPersonalisation());
    if (client.getUnlabeled() != null) {
      fedlake.core.client.UnlabeledSettings.of(client.getUnlabeled()); // checks the values
    }
    if (!(spec.getRobustness().getMaxAbsValue() > 0)) {
      throw new IllegalArgumentException(
          "max-abs-value must be positive, got " + spec.getRobustness().getMaxAbsValue());
    }
    if (spec.getRobustness().getMaxUpdateBytes() < 1024) {
      throw new IllegalArgumentException(
          "max-update-bytes must be at least 1024, got "
              + spec.getRobustness().getMaxUpdateBytes());
    }
    if (spec.getRobustness().getMaxClockSkewSeconds() < 0) {
      throw new IllegalArgumentException(
          "robustness.maxClockSkewSeconds must be >= 0, got "
              + spec.getRobustness().getMaxClockSkewSeconds());
    }
    if (!(spec.getRobustness().getControlDeltaBound() > 0)
        || !Double.isFinite(spec.getRobustness().getControlDeltaBound())) {
      throw new IllegalArgumentException(
          "robustness.controlDeltaBound must be positive, got "
              + spec.getRobustness().getControlDeltaBound());
    }
    if (spec.getRobustness().getClaimTimeoutMinutes() < 1) {
      throw new IllegalArgumentException(
          "robustness.claimTimeoutMinutes must be at least 1, got "
              + spec.getRobustness().getClaimTimeoutMinutes());
    }
    RobustSettings robust = RobustSettings.of(spec.getRobustness());
    if (fedlake.core.privacy.CentralDp.required(spec)) {
      fedlake.core.privacy.CentralDp.validate(spec.getPrivacy());
      String name = spec.getStrategy().getName();
      if (Strategies.named(name).needsEachUpdate()) {
        throw new IllegalArgumentException(
            "central differential privacy cannot run with "
                + name
                + ": it averages clipped changes with weight 1, without control variates or"
                + " local-step normalisation (use "
                + Strategies.meanOnlyNames()
                + ")");
      }
      if (!robust.none()) {
        throw new IllegalArgumentException(
            "central differential privacy clips every change itself; robust aggregation ("
                + robust.describe()
                + ") cannot be combined with it");
      }
      if (spec.getModel().getKind() != fedlake.schema.ModelKind.HEAD) {
        throw new IllegalArgumentException(
            "central differential privacy is available for head models only");
      }
    } else if (spec.getPrivacy() != null) {
      fedlake.core.privacy.CentralDp.validate(spec.getPrivacy());
    }
    String secure = fedlake.core.secagg.SecAggSettings.refusal(spec); // docs/secure-aggregation.md
    if (secure != null) {
      throw new IllegalArgumentException(secure);
    }
    if (spec.getRoundPolicy().getMinSites() < 1) {
      throw new IllegalArgumentException(
          "min-sites must be at least 1, got " + spec.getRoundPolicy().getMinSites());
    }
    if (spec.getRoundPolicy().getDeadlineSeconds() < 0) {
      throw new IllegalArgumentException(
          "round-deadline must be 0 (none) or a positive number of seconds, got "
              + spec.getRoundPolicy().getDeadlineSeconds());
    }
    int staleness = spec.getRoundPolicy().getMaxStaleness();
    if (staleness < 1 || staleness > 100) {
      throw new IllegalArgumentException(
          "max-staleness must be between 1 and 100 rounds, got " + staleness);
    }
    double exponent = spec.getRoundPolicy().getStalenessExponent();
    if (!(exponent >= 0 && exponent <= 10)) {
      throw new IllegalArgumentException(
          "staleness-exponent must be between 0 and 10, got " + exponent);
    }
  }

  /** Lower-case name of an enum symbol, as on the command line and in files. */
  public static String id(Enum<?> symbol) {
    return symbol.name().toLowerCase(Locale.ROOT);
  }

  /**
   * The enum symbol for a lower-case name; an unknown one raises an error listing the known names.
   */
  public static <E extends Enum<E>> E parse(Class<E> type, String text, String what) {
    for (E e : type.getEnumConstants()) {
      if (id(e).equals(text)) {
        return e;
      }
    }
    StringBuilder known = new StringBuilder();
    for (E e : type.getEnumConstants()) {
      known.append(known.length() == 0 ? "" : ", ").append(id(e));
    }
    throw new IllegalArgumentException(
        "unknown " + what + " '" + text + "' (known: " + known + ")");
  }
}
