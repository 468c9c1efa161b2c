package fedlake.edge;

import fedlake.core.InvalidInputException;
import fedlake.core.data.Dataset;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.UUID;

/**
 * One site's part of a round: fetch the current model of its cluster, train the head on local
 * embeddings, upload the update. No Spark.
 */
public final class EdgeTrain {
  public static final String VERSION = "0.1.0";

  private final Store store;
  private final String site;
  private final Dataset data;
  private TrainSettings settings = TrainSettings.defaults(0);
  private int cluster = 0;
  private PrintStream out = null;

  public EdgeTrain(Store store, String site, Dataset data) {
    this.store = store;
    this.site = Store.checkSite(site);
    this.data = data;
  }

  public EdgeTrain settings(TrainSettings value) {
    this.settings = value;
    return this;
  }

  public EdgeTrain cluster(int value) {
    this.cluster = value;
    return this;
  }

  /** Where progress goes; null for none. */
  public EdgeTrain progress(PrintStream value) {
    this.out = value;
    return this;
  }

  /** What one edge run produced. */
  public record Result(String updateFile, int round, String baseModelVersion, long examples, int steps,
      double localLoss, double localAccuracy, long millis) {}

  public Result execute() {
    long started = System.currentTimeMillis();
    Latest latest = store.requireLatest();
    String version = latest.version(cluster);
    Model model = store.readModel(latest.round(), cluster);
    if (!Models.HEAD.equals(model.getKind())) {
      throw new IllegalStateException("Site " + site + " cannot train model " + version + ": kind '" + model.getKind()
          + "' is not supported by this edge runner");
    }
    if (data.dimension() != model.getDimension()) {
      throw new InvalidInputException(data.source(), "embeddings have dimension " + data.dimension() + " but model "
          + version + " expects " + model.getDimension());
    }
    if (data.size() == 0) {
      throw new InvalidInputException(data.source(), "holds no rows");
    }
    data.requireLabelsBelow(model.getClassCount());
    Head head = Models.head(model);
    log("site %s: round %d, model %s, %d examples x %d dims, %d classes",
        site, latest.round(), version, data.size(), data.dimension(), model.getClassCount());
    LocalTrainer.Result trained = LocalTrainer.train(head, data, settings,
        out == null ? LocalTrainer.Progress.NONE : (epoch, epochs, loss) -> log("  epoch %d/%d  loss %.4f", epoch, epochs, loss));
    Update update = Update.newBuilder()
        .setUpdateId(UUID.randomUUID().toString())
        .setSite(site)
        .setRound(latest.round())
        .setCluster(cluster)
        .setBaseModelVersion(version)
        .setKind(model.getKind())
        .setDimension(model.getDimension())
        .setClassCount(model.getClassCount())
        .setNumExamples(data.size())
        .setLocalEpochs(settings.epochs())
        .setLocalSteps(trained.steps())
        .setWeights(FloatArrays.asList(trained.head().weights()))
        .setBias(FloatArrays.asList(trained.head().bias()))
        .setLocalLoss(trained.loss())
        .setLocalAccuracy(trained.accuracy())
        .setLabelHistogram(FloatArrays.asList(data.labelHistogram(model.getClassCount())))
        .setRunnerVersion(VERSION)
        .setCreatedTime(Instant.now())
        .build();
    String file;
    try {
      file = store.writeUpdate(update).toString();
    } catch (IOException e) {
      throw new UncheckedIOException("Site " + site + " cannot upload its update to " + store.root() + ": " + e.getMessage(), e);
    }
    long millis = System.currentTimeMillis() - started;
    log("site %s: wrote %s (loss %.4f, accuracy %.3f, %d steps, %d ms)", site, file, trained.loss(), trained.accuracy(), trained.steps(), millis);
    return new Result(file, latest.round(), version, data.size(), trained.steps(), trained.loss(), trained.accuracy(), millis);
  }

  private void log(String format, Object... args) {
    if (out != null) {
      out.println(String.format(format, args));
    }
  }
}
