package fedlake.edge;

import fedlake.core.InvalidInputException;
import fedlake.core.cluster.ClusterSelection;
import fedlake.core.data.Dataset;
import fedlake.core.data.Npy;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.ModelTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.UUID;

/**
 * One site's part of a round: fetch the current model of its cluster, train it on local embeddings
 * (a head, or the keys of a cache model), upload the update. No Spark.
 */
public final class EdgeTrain {
  public static final String VERSION = "0.1.0";

  private final Store store;
  private final String site;
  private final Dataset data;
  private TrainSettings settings = TrainSettings.defaults(0);
  private Integer cluster = null;
  private PrintStream out = null;
  private Path stateDir = defaultStateDir();
  private fedlake.core.synth.SiteStatistics siteStatistics;

  public EdgeTrain(Store store, String site, Dataset data) {
    this.store = store;
    this.site = Store.checkSite(site);
    this.data = data;
  }

  public EdgeTrain settings(TrainSettings value) {
    this.settings = value;
    return this;
  }

  /** Train this cluster's model; without it the site's assignment decides, else the lowest local loss (IFCA). */
  public EdgeTrain cluster(int value) {
    this.cluster = value;
    return this;
  }

  /** Folder for the site's own state (its SCAFFOLD control variate); default ~/.fedlake/state. */
  public EdgeTrain stateDir(Path value) {
    this.stateDir = value;
    return this;
  }

  /**
   * Opt in to reporting per-class statistics of the local embeddings (count, mean, variance and
   * optionally the full covariance) with the update; null (default) reports none. See
   * docs/synthetic.md for what they reveal.
   */
  public EdgeTrain siteStatistics(fedlake.core.synth.SiteStatistics value) {
    this.siteStatistics = value;
    return this;
  }

  public static Path defaultStateDir() {
    return Path.of(System.getProperty("user.home"), ".fedlake", "state");
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
    ClusterSelection.Selection selection = ClusterSelection.select(store, latest, site, this.cluster, data);
    int cluster = selection.cluster();
    if (selection.choice() != null) {
      log("site %s: no assignment; local loss per cluster %s, chose cluster %d", site, selection.losses(), cluster);
    }
    String version = latest.version(cluster);
    Model model = store.readModel(latest.round(), cluster);
    if (!Models.HEAD.equals(model.getKind()) && !Models.CACHE.equals(model.getKind())) {
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
    log("site %s: round %d, model %s, %d examples x %d dims, %d classes",
        site, latest.round(), version, data.size(), data.dimension(), model.getClassCount());
    boolean scaffold = !model.getControlVariate().isEmpty();
    float[] serverControl = scaffold ? FloatArrays.toArray(model.getControlVariate()) : null;
    Path stateFile = scaffold ? stateFile(cluster) : null;
    float[] siteControl = scaffold ? readState(stateFile, serverControl.length) : null;
    float[] correction = null;
    if (scaffold) {
      correction = new float[serverControl.length];
      for (int i = 0; i < correction.length; i++) {
        correction[i] = serverControl[i] - siteControl[i];
      }
    }
    ModelTrainer.Result trained = ModelTrainer.train(model, data, settings, correction,
        out == null ? LocalTrainer.Progress.NONE : (epoch, epochs, loss) -> log("  epoch %d/%d  loss %.4f", epoch, epochs, loss));
    float[] controlDelta = new float[0];
    float[] nextSiteControl = null;
    if (scaffold && trained.steps() > 0) {
      // SCAFFOLD option II: c_i+ = c_i - c + (x - y) / (K * lr), with x the base and y the trained parameters
      float[] base = Models.parameters(model);
      float[] local = trained.parameters();
      double step = trained.steps() * settings.learningRate();
      controlDelta = new float[base.length];
      nextSiteControl = new float[base.length];
      for (int i = 0; i < base.length; i++) {
        nextSiteControl[i] = (float) (siteControl[i] - serverControl[i] + (base[i] - local[i]) / step);
        controlDelta[i] = nextSiteControl[i] - siteControl[i];
      }
    }
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
        .setWeights(FloatArrays.asList(trained.weights()))
        .setBias(FloatArrays.asList(trained.bias()))
        .setCacheKeys(FloatArrays.asList(trained.cacheKeys()))
        .setControlDelta(FloatArrays.asList(controlDelta))
        .setLocalLoss(trained.loss())
        .setLocalAccuracy(trained.accuracy())
        .setLabelHistogram(FloatArrays.asList(data.labelHistogram(model.getClassCount())))
        .setClusterChoice(selection.choice())
        .setClassStatistics(siteStatistics == null ? null : siteStatistics.of(data, model.getClassCount()))
        .setRunnerVersion(VERSION)
        .setCreatedTime(Instant.now())
        .build();
    String file;
    try {
      file = store.writeUpdate(update).toString();
    } catch (IOException e) {
      throw new UncheckedIOException("Site " + site + " cannot upload its update to " + store.root() + ": " + e.getMessage(), e);
    }
    if (nextSiteControl != null) {
      writeState(stateFile, nextSiteControl);
    }
    long millis = System.currentTimeMillis() - started;
    log("site %s: wrote %s (loss %.4f, accuracy %.3f, %d steps, %d ms)", site, file, trained.loss(), trained.accuracy(), trained.steps(), millis);
    return new Result(file, latest.round(), version, data.size(), trained.steps(), trained.loss(), trained.accuracy(), millis);
  }

  /** The site's state file for this store and cluster: STATE_DIR/<hash of store URI>/<site>-cluster-<c>.npy. */
  Path stateFile(int clusterId) {
    try {
      byte[] hash = java.security.MessageDigest.getInstance("SHA-256")
          .digest(store.root().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return stateDir.resolve(java.util.HexFormat.of().formatHex(hash, 0, 6)).resolve(site + "-cluster-" + clusterId + ".npy");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private float[] readState(Path file, int size) {
    if (!Files.exists(file)) {
      file = ClusterMove.previousState(file, site);
      if (file == null) {
        return new float[size];
      }
      log("site %s: first round in this cluster; starting from its control variate of %s", site, file.getFileName());
    }
    Npy.Array array = Npy.read(file);
    if (array.values().length != size) {
      log("site %s: ignoring state %s (%d values, model has %d parameters)", site, file, array.values().length, size);
      return new float[size];
    }
    float[] values = new float[size];
    for (int i = 0; i < size; i++) {
      values[i] = (float) array.values()[i];
    }
    return values;
  }

  private void writeState(Path file, float[] values) {
    try {
      Files.createDirectories(file.getParent());
      Path temporary = file.resolveSibling("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
      Npy.writeFloat32(temporary, values, 1, values.length);
      Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("Site " + site + " cannot save its state to " + file + ": " + e.getMessage(), e);
    }
  }

  private void log(String format, Object... args) {
    if (out != null) {
      out.println(String.format(format, args));
    }
  }
}
