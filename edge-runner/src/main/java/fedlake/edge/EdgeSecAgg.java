package fedlake.edge;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.client.ClientSettings;
import fedlake.core.data.DatasetFiles;
import fedlake.core.model.Models;
import fedlake.core.secagg.SecAggSite;
import fedlake.core.secagg.Signer;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import fedlake.core.train.TrainSettings;
import fedlake.schema.Update;
import java.io.PrintStream;
import java.nio.file.Files;
import org.apache.hadoop.conf.Configuration;

/**
 * {@code edge secagg}: moves a site one step through the current round's secure aggregation
 * (docs/secure-aggregation.md). Run on a schedule (every few minutes), it posts the site's public
 * keys, then its encrypted shares, then (training here, with the spec's client settings) its masked
 * input, then its unmask shares, each once its phase is open. Exit codes: 0 a file was posted or
 * the site took part in every phase, 5 nothing is due yet (waiting for the round job), 3 the site
 * is out of this round (a phase closed without it, or the round failed), 2 bad usage or input, 1
 * the store could not be read or written.
 */
final class EdgeSecAgg {
  static final int WAITING = 5;
  static final int OUT = 3;

  static final CommandLine COMMAND =
      CommandLine.of(
              "edge secagg",
              "usage: fedlake edge secagg --store URI --site ID --data PATH [--state-dir DIR] [--key FILE]",
              "                           [--epochs E --batch-size B --learning-rate LR --seed S] [--quiet]",
              "  one step of the round's secure aggregation (keys, shares, masked input, unmask): run it on a",
              "  schedule; the site trains (from --data) only when its masked input is due. Secrets stay in",
              "  STATE_DIR/secagg/. exit 0 posted (or done), 5 nothing due yet, 3 out of this round,",
              "  2 bad input, 1 store failure (docs/secure-aggregation.md)")
          .with(StoreConfig.STORE, EdgeMain.SITE, EdgeMain.DATA, EdgeMain.STATE_DIR, EdgeMain.KEY)
          .with(EdgeMain.EPOCHS, EdgeMain.BATCH_SIZE, EdgeMain.LEARNING_RATE, EdgeMain.SEED)
          .with(EdgeMain.QUIET, StoreConfig.CONF);

  static final String USAGE = COMMAND.usage();

  private EdgeSecAgg() {}

  static int run(String[] argv, PrintStream out) {
    Args args = COMMAND.parse(argv);
    String site = Store.checkSite(args.required("site"));
    String data = args.required("data");
    ClientSettings.Overrides overrides = EdgeMain.overrides(args);
    TrainSettings settings = overrides.apply(TrainSettings.defaults(0));
    Configuration conf = StoreConfig.of(args).hadoop();
    Store store = Store.open(args.required("store"), conf);
    java.nio.file.Path stateDir =
        args.has("state-dir")
            ? java.nio.file.Path.of(args.required("state-dir"))
            : EdgeTrain.defaultStateDir();
    java.nio.file.Path keyFile =
        args.has("key")
            ? java.nio.file.Path.of(args.required("key"))
            : SiteKey.defaultFile(stateDir, site);
    SiteKey key = args.has("key") || Files.exists(keyFile) ? SiteKey.read(keyFile) : null;
    PrintStream progress = args.flag("quiet") ? null : out;
    SecAggSite secure =
        new SecAggSite(store, site, stateDir)
            .signer(key == null ? null : new Signer(key.keyId(), key.key()));
    SecAggSite.Step step =
        secure.advance(
            () -> {
              Update[] trained = new Update[1];
              EdgeTrain edge =
                  new EdgeTrain(store, site, DatasetFiles.read(data, conf))
                      .settings(settings)
                      .overrides(overrides)
                      .stateDir(stateDir)
                      .progress(progress)
                      .uploader(
                          update -> {
                            trained[0] = update;
                            return "(masked input of " + site + ")";
                          });
              if (key != null) {
                edge.signingKey(key);
              }
              edge.execute();
              return new SecAggSite.Contribution(
                  Models.parameters(trained[0]), trained[0].getNumExamples());
            });
    out.println(step.message());
    return switch (step.outcome()) {
      case ACTED, DONE -> 0;
      case WAITING -> WAITING;
      case OUT -> OUT;
    };
  }
}
