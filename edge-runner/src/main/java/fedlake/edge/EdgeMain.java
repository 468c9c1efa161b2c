package fedlake.edge;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.cli.Option;
import fedlake.core.client.ClientSettings;
import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.core.train.TrainSettings;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * The edge runner CLI: {@code fedlake edge train --store URI --site ID --data PATH [options]} (or
 * {@code --images DIR --encoder MODEL} in the images variant), {@code --version}, {@code --help}.
 * Exit codes: 0 done, 1 the store could not be read or written, or an unexpected failure, 2 bad
 * usage or bad input.
 */
public final class EdgeMain {
  /** The site's id, shared by {@code train}, {@code secagg} and {@code keygen}. */
  static final Option SITE = Option.value("site", "ID", Store.SITE_ALPHABET);

  static final Option DATA =
      Option.value(
          "data",
          "PATH",
          "embeddings: a .parquet file/folder (DatasetRow), a folder with X.npy + y.npy, or NAME_X.npy");
  static final Option STATE_DIR =
      Option.value(
          "state-dir",
          "DIR",
          "where the site keeps its state between rounds, e.g. SCAFFOLD's control variates (default ~/.fedlake/state)");
  static final Option KEY =
      Option.value(
          "key",
          "FILE",
          "sign the update with this site key (default STATE_DIR/keys/SITE.key when it exists)");
  static final Option QUIET = Option.flag("quiet", "no progress output");

  /** The training options a site may override; {@code simulate} and the demo reuse them. */
  public static final Option EPOCHS =
      Option.value(
          "epochs",
          "E",
          "local epochs, 1 to "
              + EdgeTrain.MAX_EPOCHS
              + " (default "
              + TrainSettings.EPOCHS_DEFAULT
              + ")");

  public static final Option BATCH_SIZE =
      Option.value(
          "batch-size",
          "B",
          "examples per step (default " + TrainSettings.BATCH_SIZE_DEFAULT + ")");
  public static final Option LEARNING_RATE =
      Option.value(
          "learning-rate",
          "LR",
          "SGD step size, above 0 and at most "
              + EdgeTrain.MAX_LEARNING_RATE
              + " (default "
              + TrainSettings.LEARNING_RATE_DEFAULT
              + ")");
  public static final Option MOMENTUM =
      Option.value(
          "momentum", "M", "SGD momentum (default " + TrainSettings.MOMENTUM_DEFAULT + ")");
  public static final Option WEIGHT_DECAY =
      Option.value(
          "weight-decay",
          "WD",
          "L2 penalty on weights (default " + TrainSettings.WEIGHT_DECAY_DEFAULT + ")");
  public static final Option BALANCED_LOSS =
      Option.flag(
          "balanced-loss",
          "add log(local class prior) to the logits while training (default: plain cross-entropy)");
  public static final Option SEED = Option.value("seed", "S", "shuffling seed (default 0)");

  /** The opt-in site statistics ({@link #siteStatistics}); {@code simulate} reuses them. */
  public static final List<Option> SITE_STATS =
      List.of(
          Option.flag(
              "site-stats",
              "also upload per-class count, mean and spread of the local embeddings (opt-in; see docs/synthetic.md)"),
          Option.value(
              "site-stats-spread",
              "S",
              "covariance (default: full matrix, needed for calibration) or variance (diagonal only)"),
          Option.value(
              "site-stats-min-count",
              "K",
              "report only classes with at least K local examples (default 1)"));

  /** Local differential privacy; {@code simulate} reuses them. */
  public static final Option LOCAL_DP_NOISE =
      Option.value(
          "local-dp-noise",
          "Z",
          "local differential privacy: clip the change to --local-dp-clip S and add Gaussian noise of"
              + " std Z x S before upload, for sites that do not trust the server");

  public static final Option LOCAL_DP_CLIP =
      Option.value("local-dp-clip", "S", "bound on the change under --local-dp-noise (default 1)");

  /** {@code edge train}. */
  static final CommandLine TRAIN =
      CommandLine.of(
              "edge train",
              "usage: fedlake edge train --store URI --site ID (--data PATH | --images DIR --encoder PATH_OR_URL) [options]")
          .with(StoreConfig.STORE, SITE, DATA)
          .with(EdgeImages.OPTIONS)
          .value(
              "cluster",
              "C",
              "cluster whose model to train (default: the site's assignment, else lowest local loss)")
          .text(
              "  training options override the federation spec's client settings (the algorithm is the spec's):")
          .with(EPOCHS, BATCH_SIZE, LEARNING_RATE, MOMENTUM, WEIGHT_DECAY, BALANCED_LOSS)
          .with(STATE_DIR, SEED)
          .with(SITE_STATS)
          .value(
              "site-class",
              "C",
              "the site's class for the spec's budgets (client.budgets: local steps, forward-only;"
                  + " an entry for the site id wins; docs/forward-only.md)")
          .flag(
              "unlabeled",
              "train on soft pseudo-labels, not on the rows' labels (the spec must allow it:"
                  + " spec set --labels optional); labels, where rows have them, only audit the"
                  + " pseudo-labels (docs/unlabeled.md). Rows without labels always train this way")
          .value(
              "holdout",
              "F",
              "keep this share of the local rows (0 <= F < 1; the same rows every round) out of"
                  + " training and report the received model's accuracy on them with the update"
                  + " (docs/report.md)")
          .with(LOCAL_DP_NOISE, LOCAL_DP_CLIP, KEY, QUIET, StoreConfig.CONF);

  /** {@code edge keygen}. */
  static final CommandLine KEYGEN =
      CommandLine.of(
              "edge keygen",
              "usage: fedlake edge keygen --site ID [--state-dir DIR]",
              "  makes the site's Ed25519 signing key STATE_DIR/keys/SITE.key and SITE.pub; the operator registers",
              "  the .pub with fedlake site add (docs/security.md)")
          .with(SITE, STATE_DIR);

  /** The edge runner's command lines, for checks that every option is documented once. */
  public static List<CommandLine> commandLines() {
    return List.of(TRAIN, EdgeSecAgg.COMMAND, KEYGEN);
  }

  public static final String USAGE =
      String.join(
          "\n",
          TRAIN.usage(),
          "",
          "usage: fedlake edge secagg --store URI --site ID --data PATH [options]: one step of secure aggregation",
          "  (see fedlake edge secagg --help, docs/secure-aggregation.md)",
          "",
          KEYGEN.usage());

  private EdgeMain() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** System property the archive's launcher sets to its own name, used in usage and errors. */
  public static final String COMMAND_PROPERTY = "fedlake.edge.command";

  /**
   * How the runner was started: {@code fedlake-edge} from the archive, else {@code fedlake edge}.
   */
  static String command() {
    return System.getProperty(COMMAND_PROPERTY, "fedlake edge");
  }

  /** The usage text under the name the runner was started with. */
  public static String usage() {
    return USAGE
        .replace("fedlake edge train", command() + " train")
        .replace("fedlake edge keygen", command() + " keygen")
        .replace("fedlake edge secagg", command() + " secagg");
  }

  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 1 && (args[0].equals("--version") || args[0].equals("version"))) {
      out.println(EdgeVersion.describe());
      return 0;
    }
    if (args.length >= 1 && List.of("--help", "-h", "help").contains(args[0])) {
      out.println(usage());
      return 0;
    }
    if (args.length >= 1 && "keygen".equals(args[0])) {
      try {
        keygen(Arrays.copyOfRange(args, 1, args.length), out);
        return 0;
      } catch (IllegalArgumentException | IllegalStateException e) {
        err.println(command() + ": " + e.getMessage());
        return 2;
      } catch (java.io.UncheckedIOException e) {
        err.println(command() + ": " + e.getMessage());
        return 1;
      }
    }
    if (args.length >= 1 && "secagg".equals(args[0])) { // docs/secure-aggregation.md
      if (Arrays.asList(args).contains("--help")) {
        out.println(EdgeSecAgg.USAGE.replace("fedlake edge", command()));
        return 0;
      }
      try {
        return EdgeSecAgg.run(Arrays.copyOfRange(args, 1, args.length), out);
      } catch (IllegalArgumentException | IllegalStateException e) {
        err.println(command() + ": " + e.getMessage());
        return 2;
      } catch (java.io.UncheckedIOException e) {
        err.println(command() + ": " + StoreConfig.describeFailure(e));
        return 1;
      }
    }
    if (args.length == 0 || !"train".equals(args[0])) {
      err.println(usage());
      return 2;
    }
    if (args.length >= 2
        && Arrays.stream(args).skip(1).anyMatch(a -> a.equals("--help") || a.equals("-h"))) {
      out.println(usage());
      return 0;
    }
    try {
      train(Arrays.copyOfRange(args, 1, args.length), out, err);
      return 0;
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println(command() + ": " + e.getMessage());
      return 2;
    } catch (java.io.UncheckedIOException e) {
      err.println(command() + ": " + StoreConfig.describeFailure(e));
      return 1;
    } catch (RuntimeException e) {
      err.println(command() + ": unexpected failure");
      e.printStackTrace(err);
      return 1;
    }
  }

  /** {@code edge keygen --site ID [--state-dir DIR]}: a signing key pair for the site. */
  static void keygen(String[] argv, PrintStream out) {
    Args args = KEYGEN.parse(argv);
    String site = Store.checkSite(args.required("site"));
    java.nio.file.Path stateDir =
        args.has("state-dir")
            ? java.nio.file.Path.of(args.required("state-dir"))
            : EdgeTrain.defaultStateDir();
    SiteKey key = SiteKey.generate(SiteKey.defaultFile(stateDir, site).getParent(), site);
    java.nio.file.Path pub = key.file().resolveSibling(site + ".pub");
    out.println("site " + site + ": key " + key.keyId());
    out.println("  private key (stays at the site): " + key.file());
    out.println("  public key (give it to the operator): " + pub);
    out.println("  the operator registers it with:");
    out.println("    fedlake site add --store URI --site " + site + " --public-key " + pub);
  }

  public static EdgeTrain.Result train(String[] argv, PrintStream out) {
    return train(argv, out, System.err);
  }

  /**
   * Runs {@code edge train}: training progress goes to {@code out}, the progress of embedding
   * {@code --images} to {@code err}.
   */
  public static EdgeTrain.Result train(String[] argv, PrintStream out, PrintStream err) {
    Args args = TRAIN.parse(argv);
    String site = Store.checkSite(args.required("site")); // before anything is read or trained
    EdgeImages.Request images = EdgeImages.request(args);
    ClientSettings.Overrides overrides = overrides(args);
    if (overrides.epochs() != null || overrides.learningRate() != null) {
      String useless =
          EdgeTrain.uselessSettings(
              new TrainSettings(
                  overrides.epochs() == null ? TrainSettings.EPOCHS_DEFAULT : overrides.epochs(),
                  TrainSettings.BATCH_SIZE_DEFAULT,
                  overrides.learningRate() == null
                      ? TrainSettings.LEARNING_RATE_DEFAULT
                      : overrides.learningRate(),
                  TrainSettings.MOMENTUM_DEFAULT,
                  TrainSettings.WEIGHT_DECAY_DEFAULT,
                  0,
                  false));
      if (useless != null) {
        throw new IllegalArgumentException(useless);
      }
    }
    double holdout = args.number("holdout", 0);
    if (!(holdout >= 0 && holdout < 1)) {
      throw new IllegalArgumentException(
          "--holdout must be at least 0 and below 1 (a share of the local rows), got "
              + args.required("holdout"));
    }
    TrainSettings settings =
        overrides.apply(
            TrainSettings.defaults(0)); // also checks the options before the store is opened
    Configuration conf = StoreConfig.of(args).hadoop();
    Store store = Store.open(args.required("store"), conf);
    java.nio.file.Path stateDir =
        args.has("state-dir")
            ? java.nio.file.Path.of(args.required("state-dir"))
            : EdgeTrain.defaultStateDir();
    Dataset data;
    if (images == null) {
      data = DatasetFiles.read(args.required("data"), conf);
    } else {
      // a store without a model, or class folders the model does not have, fail before embedding
      fedlake.core.store.Latest latest = store.requireLatest();
      int classes = store.readModel(latest.round(), latest.versions().firstKey()).getClassCount();
      data = images.embed(stateDir, classes, conf, args.flag("quiet") ? null : err);
    }
    EdgeTrain edge = new EdgeTrain(store, site, data);
    if (args.has("cluster")) {
      edge.cluster(args.integer("cluster", 0));
    }
    java.nio.file.Path keyFile =
        args.has("key")
            ? java.nio.file.Path.of(args.required("key"))
            : SiteKey.defaultFile(stateDir, site);
    if (args.has("key") || java.nio.file.Files.exists(keyFile)) {
      edge.signingKey(SiteKey.read(keyFile));
    }
    if (args.has("local-dp-noise")) {
      edge.localDp(args.number("local-dp-clip", 1.0), args.number("local-dp-noise", 0));
    } else if (args.has("local-dp-clip")) {
      throw new IllegalArgumentException("--local-dp-clip needs --local-dp-noise");
    }
    return edge.settings(settings)
        .overrides(overrides)
        .stateDir(stateDir)
        .progress(args.flag("quiet") ? null : out)
        .siteStatistics(siteStatistics(args))
        .holdout(holdout)
        .siteClass(args.string("site-class", null))
        .unlabeled(args.flag("unlabeled"))
        .execute();
  }

  /** The opt-in site statistics, or null when {@code --site-stats} is absent. */
  public static fedlake.core.synth.SiteStatistics siteStatistics(Args args) {
    if (!args.flag("site-stats")) {
      for (String option : new String[] {"site-stats-spread", "site-stats-min-count"}) {
        if (args.has(option)) {
          throw new IllegalArgumentException("--" + option + " needs --site-stats");
        }
      }
      return null;
    }
    return new fedlake.core.synth.SiteStatistics(
        fedlake.core.synth.ClassMoments.Spread.parse(
            args.string("site-stats-spread", "covariance"), "--site-stats-spread"),
        args.integer(
            "site-stats-min-count", fedlake.core.synth.SiteStatistics.MINIMUM_COUNT_DEFAULT));
  }

  /**
   * The training options given on the command line, null where absent: they win over the federation
   * spec's client settings. The client algorithm has no option: the spec's is binding.
   */
  public static ClientSettings.Overrides overrides(Args args) {
    return new ClientSettings.Overrides(
        args.has("epochs") ? args.integer("epochs", TrainSettings.EPOCHS_DEFAULT) : null,
        args.has("batch-size")
            ? args.integer("batch-size", TrainSettings.BATCH_SIZE_DEFAULT)
            : null,
        args.has("learning-rate")
            ? args.number("learning-rate", TrainSettings.LEARNING_RATE_DEFAULT)
            : null,
        args.has("momentum") ? args.number("momentum", TrainSettings.MOMENTUM_DEFAULT) : null,
        args.has("weight-decay")
            ? args.number("weight-decay", TrainSettings.WEIGHT_DECAY_DEFAULT)
            : null,
        args.flag("balanced-loss") ? Boolean.TRUE : null,
        args.longValue("seed", 0));
  }

  /** Training settings from the options shared by every command that trains. */
  public static TrainSettings settings(Args args) {
    return new TrainSettings(
        args.integer("epochs", TrainSettings.EPOCHS_DEFAULT),
        args.integer("batch-size", TrainSettings.BATCH_SIZE_DEFAULT),
        args.number("learning-rate", TrainSettings.LEARNING_RATE_DEFAULT),
        args.number("momentum", TrainSettings.MOMENTUM_DEFAULT),
        args.number("weight-decay", TrainSettings.WEIGHT_DECAY_DEFAULT),
        args.longValue("seed", 0),
        args.flag("balanced-loss"));
  }
}
