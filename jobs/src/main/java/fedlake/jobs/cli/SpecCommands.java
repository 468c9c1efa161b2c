package fedlake.jobs.cli;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.cli.Option;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.core.strategy.RobustSettings;
import fedlake.core.strategy.Strategies;
import fedlake.core.strategy.Strategy;
import fedlake.core.strategy.StrategyParameter;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientSpec;
import fedlake.schema.FederationSpec;
import fedlake.schema.LateUpdatePolicy;
import fedlake.schema.PrivacySpec;
import fedlake.schema.RobustnessSpec;
import fedlake.schema.RoundPolicySpec;
import fedlake.schema.SecureAggregationSpec;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The federation spec on the command line: the options that set it (shared by {@code init} and
 * {@code spec set}, declared once for parsing and usage), and {@code fedlake spec show|set}.
 */
public final class SpecCommands {
  static final Option STRATEGY =
      Option.value(
          "strategy",
          "NAME",
          "aggregation strategy: "
              + String.join(", ", Strategies.names())
              + " (default fedavg; docs/strategies.md)");
  static final List<Option> CLIENT =
      List.of(
          Option.value(
              "local-epochs",
              "E",
              "local epochs a round (default " + TrainSettings.EPOCHS_DEFAULT + ")"),
          Option.value(
              "batch-size",
              "B",
              "examples per local step (default " + TrainSettings.BATCH_SIZE_DEFAULT + ")"),
          Option.value(
              "learning-rate",
              "LR",
              "local SGD step size (default " + TrainSettings.LEARNING_RATE_DEFAULT + ")"),
          Option.value(
              "momentum",
              "M",
              "local SGD momentum (default " + TrainSettings.MOMENTUM_DEFAULT + ")"),
          Option.value(
              "weight-decay",
              "WD",
              "L2 penalty on the weights (default " + TrainSettings.WEIGHT_DECAY_DEFAULT + ")"),
          Option.value("mu", "MU", "FedProx proximal term of prox sites (default 0)"),
          Option.flag(
              "balanced-loss", "sites add log(local class prior) to the logits while training"),
          Option.value(
              "update-encoding",
              "fp32|fp16|int8",
              "how sites send their parameters: fp16 halves an update, int8 quarters it (default"
                  + " fp32; docs/compression.md)"));
  public static final List<Option> PERSONALISATION =
      List.of(
          Option.value(
              "personalisation",
              "MODE",
              "feddat: every site keeps a local head next to the shared one (docs/personalisation.md); none: off"),
          Option.value(
              "distillation-temperature",
              "T",
              "feddat: temperature of the softened KL terms (default "
                  + fedlake.core.client.Personalisation.TEMPERATURE_DEFAULT
                  + ")"),
          Option.value(
              "shared-distillation",
              "W",
              "feddat: weight of the shared head's KL towards the teacher (default 1)"),
          Option.value(
              "local-distillation",
              "W",
              "feddat: weight of the local head's KL towards the shared head (default 1)"));

  /** Training without labels (docs/unlabeled.md): {@code client.unlabeled}. */
  public static final List<Option> UNLABELED =
      List.of(
          Option.value(
              "labels",
              "required|optional",
              "optional: sites may train without labels, on soft pseudo-labels (default required)"),
          Option.value(
              "pseudo-momentum",
              "M",
              "weight of the kept soft labels in their moving average (default "
                  + fedlake.core.client.UnlabeledSettings.MOMENTUM_DEFAULT
                  + ")"),
          Option.value(
              "pseudo-top",
              "F",
              "per pseudo-class, the share of its most confident rows that train (default "
                  + fedlake.core.client.UnlabeledSettings.TOP_FRACTION_DEFAULT
                  + ")"),
          Option.value(
              "pseudo-temperature",
              "T",
              "targets are the soft labels sharpened to q^(1/T) (default "
                  + fedlake.core.client.UnlabeledSettings.TEMPERATURE_DEFAULT
                  + ")"),
          Option.value(
              "pseudo-balance",
              "X",
              "weight of the class-balance term on the bias (default "
                  + fedlake.core.client.UnlabeledSettings.BALANCE_DEFAULT
                  + ")"),
          Option.value(
              "synth-weight",
              "X",
              "mixing weight of the text-Gaussian samples (default "
                  + fedlake.core.client.UnlabeledSettings.SYNTH_WEIGHT_DEFAULT
                  + ")"),
          Option.value(
              "synth-scale",
              "S",
              "noise length around a class text embedding (default "
                  + fedlake.core.client.UnlabeledSettings.SYNTH_SCALE_DEFAULT
                  + ")"),
          Option.value(
              "synth-per-batch",
              "N",
              "text-Gaussian samples per batch (default "
                  + fedlake.core.client.UnlabeledSettings.SYNTH_PER_BATCH_DEFAULT
                  + ")"),
          Option.value(
              "pseudo-trust",
              "X",
              "weight of trust/2 |W - W_0|^2 toward the zero-shot head (default "
                  + fedlake.core.client.UnlabeledSettings.TRUST_DEFAULT
                  + ")"),
          Option.value(
              "prior-correction",
              "D",
              "damping in [0, 1] of the round job's class-bias correction toward a uniform mean"
                  + " prediction on the unlabeled rows, 0 off (default "
                  + fedlake.core.client.UnlabeledSettings.PRIOR_CORRECTION_DEFAULT
                  + ")"));

  /**
   * Applies {@link #UNLABELED} options to the spec's client: {@code --labels optional} (or any
   * pseudo-label setting) allows training without labels, {@code --labels required} forbids it.
   */
  public static void applyUnlabeled(Args args, ClientSpec client) {
    String labels = args.string("labels", null);
    if (labels != null && !labels.equals("required") && !labels.equals("optional")) {
      throw new IllegalArgumentException(
          "--labels must be required or optional, got '" + labels + "'");
    }
    if ("required".equals(labels)) {
      for (Option o : UNLABELED) {
        if (!o.name().equals("labels") && args.has(o.name())) {
          throw new IllegalArgumentException(
              "--" + o.name() + " sets training without labels, which --labels required forbids");
        }
      }
      client.setUnlabeled(null);
      return;
    }
    boolean any = "optional".equals(labels);
    for (Option o : UNLABELED) {
      any |= args.has(o.name());
    }
    if (!any) {
      return;
    }
    fedlake.schema.UnlabeledSpec u =
        client.getUnlabeled() == null
            ? fedlake.schema.UnlabeledSpec.newBuilder().build()
            : fedlake.schema.UnlabeledSpec.newBuilder(client.getUnlabeled()).build();
    if (args.has("pseudo-momentum")) {
      u.setMomentum(args.number("pseudo-momentum", 0));
    }
    if (args.has("pseudo-top")) {
      u.setTopFraction(args.number("pseudo-top", 0));
    }
    if (args.has("pseudo-temperature")) {
      u.setTemperature(args.number("pseudo-temperature", 0));
    }
    if (args.has("pseudo-balance")) {
      u.setBalance(args.number("pseudo-balance", 0));
    }
    if (args.has("synth-weight")) {
      u.setSynthWeight(args.number("synth-weight", 0));
    }
    if (args.has("synth-scale")) {
      u.setSynthScale(args.number("synth-scale", 0));
    }
    if (args.has("synth-per-batch")) {
      u.setSynthPerBatch(args.integer("synth-per-batch", 0));
    }
    if (args.has("pseudo-trust")) {
      u.setTrust(args.number("pseudo-trust", 0));
    }
    if (args.has("prior-correction")) {
      u.setPriorCorrection(args.number("prior-correction", 0));
    }
    fedlake.core.client.UnlabeledSettings.of(u); // checks the values
    client.setUnlabeled(u);
  }

  static final List<Option> LIMITS =
      List.of(
          Option.value(
              "max-abs-value", "V", "largest absolute parameter value accepted (default 1e4)"),
          Option.value(
              "max-update-bytes",
              "N",
              "largest update file and uncompressed column size read (default 256 MiB)"),
          Option.value(
              "min-sites",
              "K",
              "fewest sites with a valid update a round publishes from before its deadline (default 1)"),
          Option.value(
              "round-deadline",
              "SECONDS",
              "seconds after a round's model was written at which the round closes with the valid"
                  + " updates it has, at least one (default 0: none, wait for min-sites)"),
          Option.value(
              "late-updates",
              "POLICY",
              "updates trained from an earlier round's model: ignore (default; rejected as stale)"
                  + " or buffer (buffered asynchronous aggregation: counted in a later round,"
                  + " weighted down by staleness)"),
          Option.value(
              "max-staleness",
              "N",
              "buffer: most rounds an update may be late and still count (default 2)"),
          Option.value(
              "staleness-exponent",
              "A",
              "buffer: a late update weighs numExamples / (1 + staleness)^A (default 0.5)"),
          Option.value(
              "max-clock-skew-seconds",
              "S",
              "slack of an update's createdTime against the round job's clock and its base model"
                  + " (default 300)"),
          Option.value(
              "control-delta-bound",
              "F",
              "largest SCAFFOLD control value, as a multiple of the logit scale (default 4)"),
          Option.value(
              "require-signatures",
              "yes|no",
              "every update must be signed by a registered key of its site (default no;"
                  + " docs/security.md)"),
          Option.value(
              "claim-timeout-minutes",
              "M",
              "how long a round job's claim holds against jobs on other hosts (default 120)"));

  /** Central differential privacy options (docs/privacy.md). */
  public static final List<Option> PRIVACY =
      List.of(
          Option.value(
              "privacy",
              "MECHANISM",
              "none (default) or central-gaussian: DP-FedAvg with clipping, seeded noise and an"
                  + " RDP accountant (the round job needs "
                  + fedlake.core.privacy.CentralDp.SECRET_ENV
                  + ")"),
          Option.value("dp-clip", "S", "bound on one site's change (default 1)"),
          Option.value("dp-noise", "Z", "noise multiplier: noise std is Z x S (default 1)"),
          Option.value("dp-sample", "Q", "share of the sites drawn each round (default 1)"),
          Option.value(
              "dp-population", "N", "sites of the federation (default: the registered sites)"),
          Option.value("dp-delta", "D", "delta of the reported (epsilon, delta) (default 1e-5)"),
          Option.value("dp-budget", "EPS", "largest epsilon the federation may spend (default 8)"),
          Option.value(
              "dp-centre",
              "FILE.npy|none",
              "public embeddings (a vector, or rows whose mean is taken) to centre the clipping,"
                  + " the noise and the sites' training on; none: no centre (docs/privacy.md)"));

  /** Applies the privacy options of {@code args} to {@code spec}. */
  public static void applyPrivacy(Args args, FederationSpec.Builder spec) {
    if (PRIVACY.stream().noneMatch(o -> args.has(o.name()))) {
      return;
    }
    PrivacySpec p =
        spec.getPrivacy() == null
            ? PrivacySpec.newBuilder().build()
            : PrivacySpec.newBuilder(spec.getPrivacy()).build();
    if (args.has("privacy")) {
      p.setMechanism(args.required("privacy"));
    }
    if (args.has("dp-clip")) {
      p.setClipNorm(args.number("dp-clip", 0));
    }
    if (args.has("dp-noise")) {
      p.setNoiseMultiplier(args.number("dp-noise", 0));
    }
    if (args.has("dp-sample")) {
      p.setSampleFraction(args.number("dp-sample", 0));
    }
    if (args.has("dp-population")) {
      p.setPopulation(args.integer("dp-population", 0));
    }
    if (args.has("dp-delta")) {
      p.setDelta(args.number("dp-delta", 0));
    }
    if (args.has("dp-budget")) {
      p.setEpsilonBudget(args.number("dp-budget", 0));
    }
    if (args.has("dp-centre")) {
      String file = args.required("dp-centre");
      p.setCentre("none".equals(file) ? List.of() : centre(file));
    }
    spec.setPrivacy(p);
  }

  /** The mean row of a .npy of one vector or of rows (--dp-centre). */
  static List<Float> centre(String file) {
    fedlake.core.data.Npy.Array array = fedlake.core.data.Npy.read(java.nio.file.Path.of(file));
    if (array.shape().length < 1 || array.shape().length > 2 || array.values().length == 0) {
      throw new fedlake.core.InvalidInputException(
          file,
          "--dp-centre needs a vector or a 2-dimensional array of rows, found shape "
              + java.util.Arrays.toString(array.shape()));
    }
    int columns = array.shape()[array.shape().length - 1];
    int rows = array.values().length / columns;
    double[] sum = new double[columns];
    for (int i = 0; i < array.values().length; i++) {
      sum[i % columns] += array.values()[i];
    }
    List<Float> centre = new java.util.ArrayList<>(columns);
    for (double v : sum) {
      centre.add((float) (v / rows));
    }
    return centre;
  }

  /** Secure aggregation options (docs/secure-aggregation.md). */
  public static final List<Option> SECURE =
      List.of(
          Option.value(
              "secure-aggregation",
              "on|off",
              "the round job learns only the sum of the round's quantised updates (pairwise masks,"
                  + " t-of-n recovery of dropped sites; sites run edge secagg)"),
          Option.value(
              "secagg-threshold",
              "T",
              "fewest sites that finish a phase; the round uses max(T, n/2 + 1) (default 2)"),
          Option.value(
              "secagg-clip", "C", "each coordinate of a change is clamped to [-C, C] (default 10)"),
          Option.value("secagg-scale", "S", "quantisation steps per unit (default 1048576 = 2^20)"),
          Option.value(
              "secagg-deadlines",
              "K,S,M,U",
              "seconds each phase stays open: keys, shares, masked input, unmask (default"
                  + " 3600,3600,86400,3600)"));

  /** Applies the secure aggregation options of {@code args} to {@code spec}. */
  public static void applySecure(Args args, FederationSpec.Builder spec) {
    if (SECURE.stream().noneMatch(o -> args.has(o.name()))) {
      return;
    }
    String mode = args.has("secure-aggregation") ? args.required("secure-aggregation") : null;
    if (mode != null && !mode.equals("on") && !mode.equals("off")) {
      throw new IllegalArgumentException(
          "--secure-aggregation must be on or off, got '" + mode + "'");
    }
    if ("off".equals(mode)) {
      spec.setSecureAggregation(null);
      return;
    }
    if (mode == null && spec.getSecureAggregation() == null) {
      throw new IllegalArgumentException(
          "--secagg-* options need --secure-aggregation on (the spec has it off)");
    }
    SecureAggregationSpec s =
        spec.getSecureAggregation() == null
            ? SecureAggregationSpec.newBuilder().build()
            : SecureAggregationSpec.newBuilder(spec.getSecureAggregation()).build();
    if (args.has("secagg-threshold")) {
      s.setThreshold(args.integer("secagg-threshold", 0));
    }
    if (args.has("secagg-clip")) {
      s.setClip(args.number("secagg-clip", 0));
    }
    if (args.has("secagg-scale")) {
      s.setScale(args.number("secagg-scale", 0));
    }
    if (args.has("secagg-deadlines")) {
      String[] parts = args.required("secagg-deadlines").split(",", -1);
      long[] seconds = new long[4];
      try {
        if (parts.length != 4) {
          throw new NumberFormatException();
        }
        for (int i = 0; i < 4; i++) {
          seconds[i] = Long.parseLong(parts[i].trim());
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "--secagg-deadlines needs four whole numbers of seconds (keys,shares,masked,unmask),"
                + " got '"
                + args.required("secagg-deadlines")
                + "'");
      }
      s.setKeysSeconds(seconds[0]);
      s.setSharesSeconds(seconds[1]);
      s.setMaskedSeconds(seconds[2]);
      s.setUnmaskSeconds(seconds[3]);
    }
    spec.setSecureAggregation(s);
  }

  /** Robust aggregation options (docs/robustness.md). */
  public static final List<Option> ROBUST =
      List.of(
          Option.value(
              "aggregation",
              "RULE",
              "robust rule before the strategy's server step: mean (default), median, trimmed-mean, krum, multi-krum"),
          Option.value(
              "attacker-fraction",
              "F",
              "share of updates the robust rules assume hostile, in [0, 0.5) (default 0.2)"),
          Option.value(
              "clip-norm", "B", "clip each update's change to this L2 norm (default 0: off)"),
          Option.value(
              "clip-median-multiple",
              "X",
              "clip each update's change to X times the round's median norm (default 0: off)"),
          Option.value(
              "weight-median-multiple",
              "X",
              "cap each update's numExamples at X times the round's median (default 0: off)"),
          Option.value(
              "exclude-median-multiple",
              "X",
              "leave out updates whose change norm is above X times the round's median (default 0: off)"),
          Option.value(
              "direction-floor",
              "C",
              "leave out updates whose change has a cosine below C with the round's reference direction, in [-1, 1) (default -1: off)"),
          Option.value(
              "direction-reference",
              "D",
              "the direction rule's reference: unit-mean (default; the round's changes scaled to length 1, summed) or median (coordinate-wise)"),
          Option.value(
              "direction-mad-multiple",
              "K",
              "with the direction rule, leave out only updates also more than K median absolute deviations below the round's median cosine (default 0: the floor alone)"),
          Option.value(
              "misdirected-ceiling",
              "S",
              "leave out updates with more than S of their weight change in class rows moving toward another class's row (flipped labels), in [0, 1] (default 0: off)"));

  private SpecCommands() {}

  /** Applies the robust aggregation options on the command line to {@code robustness}. */
  public static void applyRobust(Args args, RobustnessSpec robustness) {
    if (args.has("aggregation")) {
      robustness.setAggregation(args.required("aggregation"));
    }
    if (args.has("attacker-fraction")) {
      robustness.setAttackerFraction(args.number("attacker-fraction", 0));
    }
    if (args.has("clip-norm")) {
      robustness.setClipNorm(args.number("clip-norm", 0));
    }
    if (args.has("clip-median-multiple")) {
      robustness.setClipMedianMultiple(args.number("clip-median-multiple", 0));
    }
    if (args.has("weight-median-multiple")) {
      robustness.setWeightMedianMultiple(args.number("weight-median-multiple", 0));
    }
    if (args.has("exclude-median-multiple")) {
      robustness.setExcludeMedianMultiple(args.number("exclude-median-multiple", 0));
    }
    if (args.has("direction-floor")) {
      robustness.setDirectionFloor(args.number("direction-floor", -1));
    }
    if (args.has("direction-reference")) {
      robustness.setDirectionReference(args.required("direction-reference"));
    }
    if (args.has("misdirected-ceiling")) {
      robustness.setMisdirectedCeiling(args.number("misdirected-ceiling", 0));
    }
    if (args.has("direction-mad-multiple")) {
      robustness.setDirectionMadMultiple(args.number("direction-mad-multiple", 0));
    }
  }

  /** One option per strategy parameter name (a name several strategies share is declared once). */
  public static List<Option> strategyParameters() {
    Map<String, List<String>> owners = new TreeMap<>();
    Map<String, String> docs = new HashMap<>();
    for (Strategy strategy : Strategies.all()) {
      for (StrategyParameter p : strategy.parameters()) {
        owners
            .computeIfAbsent(p.name(), k -> new ArrayList<>())
            .add(
                strategy.name()
                    + " "
                    + (p.wordFor(p.defaultValue()) != null
                        ? p.wordFor(p.defaultValue())
                        : String.valueOf(p.defaultValue())));
        docs.putIfAbsent(p.name(), p.doc());
      }
    }
    List<Option> options = new ArrayList<>();
    owners.forEach(
        (name, users) ->
            options.add(
                Option.value(
                    name, "X", docs.get(name) + " (default: " + String.join(", ", users) + ")")));
    return options;
  }

  /**
   * The value of strategy parameter option {@code name}: a number, or a word a strategy declares
   * for it ({@code --tau-eff max}).
   */
  public static double parameterValue(Args args, String name) {
    String text = args.required(name);
    for (Strategy strategy : Strategies.all()) {
      for (StrategyParameter p : strategy.parameters()) {
        if (p.name().equals(name) && p.word(text) != null) {
          return p.word(text);
        }
      }
    }
    return args.number(name, 0);
  }

  /** Every option that sets part of the spec. */
  static List<Option> all() {
    List<Option> options = new ArrayList<>();
    options.add(STRATEGY);
    options.addAll(strategyParameters());
    options.addAll(CLIENT);
    options.addAll(PERSONALISATION);
    options.addAll(ForwardOnlyOptions.OPTIONS);
    options.addAll(UNLABELED);
    options.addAll(LIMITS);
    options.addAll(ROBUST);
    options.addAll(PRIVACY);
    options.addAll(SECURE);
    return options;
  }

  /** The spec option named {@code name}, for commands that reuse its declaration. */
  public static Option option(String name) {
    return all().stream()
        .filter(o -> o.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no spec option --" + name));
  }

  /** Whether any spec option is on the command line. */
  static boolean anyGiven(Args args) {
    return all().stream().anyMatch(o -> args.has(o.name()));
  }

  /**
   * Applies --personalisation feddat|none and the distillation settings to {@code client}; the
   * settings alone change a personalisation already in the spec.
   */
  public static void applyPersonalisation(Args args, ClientSpec client) {
    if (args.has("personalisation")) {
      String mode = args.required("personalisation");
      if (mode.equals("none")) {
        client.setPersonalisation(null);
      } else if (mode.equals(fedlake.core.client.Personalisation.FEDDAT)) {
        if (client.getPersonalisation() == null) {
          client.setPersonalisation(fedlake.core.client.Personalisation.feddat().toSpec());
        }
      } else {
        throw new IllegalArgumentException(
            "--personalisation must be 'feddat' or 'none', got '" + mode + "'");
      }
    }
    boolean tuned =
        args.has("distillation-temperature")
            || args.has("shared-distillation")
            || args.has("local-distillation");
    if (!tuned) {
      return;
    }
    fedlake.schema.PersonalisationSpec p = client.getPersonalisation();
    if (p == null) {
      throw new IllegalArgumentException(
          "--distillation-temperature, --shared-distillation and --local-distillation need"
              + " --personalisation feddat");
    }
    if (args.has("distillation-temperature")) {
      p.setTemperature(args.number("distillation-temperature", 0));
    }
    if (args.has("shared-distillation")) {
      p.setSharedDistillation(args.number("shared-distillation", 0));
    }
    if (args.has("local-distillation")) {
      p.setLocalDistillation(args.number("local-distillation", 0));
    }
    fedlake.core.client.Personalisation.of(p);
  }

  /**
   * Applies the spec options on the command line to {@code spec}: a new strategy resets its
   * parameters to the ones given; parameters alone change the current strategy's.
   */
  static void apply(Args args, FederationSpec.Builder spec) {
    Map<String, Double> parameters = new LinkedHashMap<>();
    for (Option o : strategyParameters()) {
      if (args.has(o.name())) {
        parameters.put(o.name(), parameterValue(args, o.name()));
      }
    }
    if (args.has(STRATEGY.name())) {
      Specs.setStrategy(spec, args.required(STRATEGY.name()), parameters);
    } else if (!parameters.isEmpty()) {
      Map<String, Double> merged = new HashMap<>(spec.getStrategy().getParameters());
      merged.putAll(parameters);
      Specs.setStrategy(spec, spec.getStrategy().getName(), merged);
    }
    ClientSpec client = ClientSpec.newBuilder(spec.getClient()).build();
    if (args.has("local-epochs")) {
      client.setEpochs(args.integer("local-epochs", 0));
    }
    if (args.has("batch-size")) {
      client.setBatchSize(args.integer("batch-size", 0));
    }
    if (args.has("learning-rate")) {
      client.setLearningRate(args.number("learning-rate", 0));
    }
    if (args.has("momentum")) {
      client.setMomentum(args.number("momentum", 0));
    }
    if (args.has("weight-decay")) {
      client.setWeightDecay(args.number("weight-decay", 0));
    }
    if (args.has("mu")) {
      client.setProximalMu(args.number("mu", 0));
    }
    if (args.flag("balanced-loss")) {
      client.setBalancedLoss(true);
    }
    if (args.has("update-encoding")) {
      client.setUpdateEncoding(updateEncoding(args.required("update-encoding")));
    }
    applyPersonalisation(args, client);
    ForwardOnlyOptions.apply(args, client);
    applyUnlabeled(args, client);
    spec.setClient(client);
    RobustnessSpec robustness = RobustnessSpec.newBuilder(spec.getRobustness()).build();
    if (args.has("max-abs-value")) {
      robustness.setMaxAbsValue(args.number("max-abs-value", 0));
    }
    if (args.has("max-update-bytes")) {
      robustness.setMaxUpdateBytes(args.longValue("max-update-bytes", 0));
    }
    if (args.has("max-clock-skew-seconds")) {
      robustness.setMaxClockSkewSeconds(args.longValue("max-clock-skew-seconds", 0));
    }
    if (args.has("control-delta-bound")) {
      robustness.setControlDeltaBound(args.number("control-delta-bound", 0));
    }
    if (args.has("require-signatures")) {
      String value = args.required("require-signatures");
      if (!value.equals("yes") && !value.equals("no")) {
        throw new IllegalArgumentException(
            "--require-signatures must be yes or no, got '" + value + "'");
      }
      robustness.setRequireSignatures(value.equals("yes"));
    }
    if (args.has("claim-timeout-minutes")) {
      robustness.setClaimTimeoutMinutes(args.integer("claim-timeout-minutes", 0));
    }
    applyRobust(args, robustness);
    spec.setRobustness(robustness);
    RoundPolicySpec policy = RoundPolicySpec.newBuilder(spec.getRoundPolicy()).build();
    if (args.has("min-sites")) {
      policy.setMinSites(args.integer("min-sites", 0));
    }
    if (args.has("round-deadline")) {
      policy.setDeadlineSeconds(args.longValue("round-deadline", 0));
    }
    applyRoundPolicy(args, policy);
    spec.setRoundPolicy(policy);
    applyPrivacy(args, spec);
    applySecure(args, spec);
  }

  /** Applies the late-update options of {@code args} to {@code policy}. */
  /** The encoding {@code --update-encoding} names. */
  public static fedlake.schema.UpdateEncoding updateEncoding(String id) {
    fedlake.schema.UpdateEncoding encoding = fedlake.core.codec.UpdateCodec.parse(id);
    if (encoding == null || id == null) {
      throw new IllegalArgumentException(
          "--update-encoding must be fp32, fp16 or int8, got '" + id + "'");
    }
    return encoding;
  }

  public static void applyRoundPolicy(Args args, RoundPolicySpec policy) {
    if (args.has("late-updates")) {
      policy.setLateUpdates(
          Specs.parse(
              LateUpdatePolicy.class, args.required("late-updates"), "late-updates policy"));
    }
    if (args.has("max-staleness")) {
      policy.setMaxStaleness(args.integer("max-staleness", 0));
    }
    if (args.has("staleness-exponent")) {
      policy.setStalenessExponent(args.number("staleness-exponent", 0));
    }
  }

  /**
   * {@code fedlake spec show|set}: both parse the same options ({@code show} ignores the spec's).
   */
  public static final CommandLine COMMAND =
      CommandLine.of(
              "spec",
              "usage: fedlake spec show --store URI            the spec in force and every earlier version",
              "       fedlake spec set --store URI [options]   write the next spec version (recorded with this command line)")
          .with(StoreConfig.STORE)
          .with(all())
          .with(StoreConfig.CONF);

  public static final String USAGE = COMMAND.usage();

  public static int run(String[] argv, PrintStream out) {
    if (argv.length == 0 || !(argv[0].equals("show") || argv[0].equals("set"))) {
      throw new IllegalArgumentException(USAGE);
    }
    String[] rest = java.util.Arrays.copyOfRange(argv, 1, argv.length);
    Args args = COMMAND.parse("spec " + argv[0], rest);
    Store store = Store.open(args.required("store"), StoreConfig.of(args).hadoop());
    FederationSpec current = Specs.require(store);
    if (argv[0].equals("show")) {
      for (int version = 1; version < current.getSpecVersion(); version++) {
        FederationSpec earlier = Specs.read(store, version);
        out.printf("version %d  %s  %s%n", version, earlier.getCreatedTime(), earlier.getChange());
      }
      out.printf(
          "version %d (in force)  %s  %s%n",
          current.getSpecVersion(), current.getCreatedTime(), current.getChange());
      out.print(Specs.toJson(current));
      return 0;
    }
    if (!anyGiven(args)) {
      throw new IllegalArgumentException(
          "spec set: nothing to change (give at least one option)\n" + USAGE);
    }
    FederationSpec.Builder next =
        Specs.next(current, "spec set " + String.join(" ", rest), Instant.now().toEpochMilli());
    apply(args, next);
    FederationSpec written = Specs.write(store, next.build());
    out.printf(
        "Federation spec of %s is now version %d (strategy %s, %s sites); it applies from the next round job on%n",
        store.root(),
        written.getSpecVersion(),
        written.getStrategy().getName(),
        Specs.id(written.getClient().getAlgorithm()));
    String caution = RobustSettings.caution(written);
    if (caution != null) {
      out.printf("Note: %s%n", caution);
    }
    return 0;
  }
}
