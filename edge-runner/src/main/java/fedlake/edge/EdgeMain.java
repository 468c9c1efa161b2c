package fedlake.edge;

import fedlake.core.cli.Args;
import fedlake.core.client.ClientSettings;
import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.core.train.TrainSettings;
import java.io.PrintStream;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;

/**
 * The edge runner CLI: {@code fedlake edge train --store URI --site ID --data PATH [options]}. Exit
 * codes: 0 done, 1 the store could not be read or written, or an unexpected failure, 2 bad usage or
 * bad input.
 */
public final class EdgeMain {
  public static final String USAGE =
      String.join(
          "\n",
          "usage: fedlake edge train --store URI --site ID --data PATH [options]",
          "  --data PATH            embeddings: a .parquet file/folder (DatasetRow), a folder with X.npy + y.npy, or NAME_X.npy",
          "  --cluster C            cluster whose model to train (default: the site's assignment, else lowest local loss)",
          "  training options override the federation spec's client settings (the algorithm is the spec's):",
          "  --site ID              " + Store.SITE_ALPHABET,
          "  --epochs E             local epochs, 1 to "
              + EdgeTrain.MAX_EPOCHS
              + " (default "
              + TrainSettings.EPOCHS_DEFAULT
              + ")",
          "  --batch-size B         examples per step (default "
              + TrainSettings.BATCH_SIZE_DEFAULT
              + ")",
          "  --learning-rate LR     SGD step size, above 0 and at most "
              + EdgeTrain.MAX_LEARNING_RATE
              + " (default "
              + TrainSettings.LEARNING_RATE_DEFAULT
              + ")",
          "  --momentum M           SGD momentum (default " + TrainSettings.MOMENTUM_DEFAULT + ")",
          "  --weight-decay WD      L2 penalty on weights (default "
              + TrainSettings.WEIGHT_DECAY_DEFAULT
              + ")",
          "  --balanced-loss        add log(local class prior) to the logits while training (default: plain cross-entropy)",
          "  --state-dir DIR        where the site keeps its state between rounds, e.g. SCAFFOLD's control variates (default ~/.fedlake/state)",
          "  --seed S               shuffling seed (default 0)",
          "  --site-stats           also upload per-class count, mean and spread of the local embeddings (opt-in; see docs/synthetic.md)",
          "  --site-stats-spread S  covariance (default: full matrix, needed for calibration) or variance (diagonal only)",
          "  --site-stats-min-count K  report only classes with at least K local examples (default 1)",
          "  --holdout F            keep this share of the local rows (0 <= F < 1; the same rows every round) out of training",
          "                         and report the received model's accuracy on them with the update (docs/report.md)",
          "  --quiet                no progress output",
          StoreConfig.USAGE);

  private EdgeMain() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || !"train".equals(args[0])) {
      err.println(USAGE);
      return 2;
    }
    try {
      train(java.util.Arrays.copyOfRange(args, 1, args.length), out);
      return 0;
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("fedlake edge: " + e.getMessage());
      return 2;
    } catch (java.io.UncheckedIOException e) {
      err.println("fedlake edge: " + StoreConfig.describeFailure(e));
      return 1;
    } catch (RuntimeException e) {
      err.println("fedlake edge: unexpected failure");
      e.printStackTrace(err);
      return 1;
    }
  }

  public static EdgeTrain.Result train(String[] argv, PrintStream out) {
    Args args =
        new Args(
            "edge train",
            argv,
            Set.of(
                "store",
                "site",
                "data",
                "cluster",
                "epochs",
                "batch-size",
                "learning-rate",
                "momentum",
                "weight-decay",
                "seed",
                "state-dir",
                "site-stats-spread",
                "site-stats-min-count",
                "holdout",
                StoreConfig.OPTION),
            Set.of("balanced-loss", "quiet", "site-stats"));
    String site = Store.checkSite(args.required("site")); // before anything is read or trained
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
    Dataset data = DatasetFiles.read(args.required("data"), conf);
    EdgeTrain edge = new EdgeTrain(store, site, data);
    if (args.has("cluster")) {
      edge.cluster(args.integer("cluster", 0));
    }
    return edge.settings(settings)
        .overrides(overrides)
        .stateDir(
            args.has("state-dir")
                ? java.nio.file.Path.of(args.required("state-dir"))
                : EdgeTrain.defaultStateDir())
        .progress(args.flag("quiet") ? null : out)
        .siteStatistics(siteStatistics(args))
        .holdout(holdout)
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
