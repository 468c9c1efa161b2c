package fedlake.core.init;

import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.FederationSpec;
import fedlake.schema.Model;
import fedlake.schema.ModelKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Starts a new federation in a store: writes its spec (version 1), optionally a site registry, then
 * the round-0 model of every cluster, and moves the pointer last. Every way of making the round-0
 * model (zeros, a bootstrapped head, a cache model) ends here.
 */
public final class Federation {
  public static final String ZEROS = "zeros";

  private final Store store;
  private int dimension;
  private int classCount;
  private int clusters = 1;
  private float logitScale = Models.DEFAULT_LOGIT_SCALE;
  private Collection<String> sites;
  private Head initial;
  private CacheModel initialCache;
  private String initialization = ZEROS;
  private String strategy = "fedavg";
  private Map<String, Double> strategyParameters = Map.of();
  private Consumer<FederationSpec.Builder> adjust = spec -> {};
  private TrainSettings training;
  private String change = "init";

  public Federation(Store store) {
    this.store = store;
  }

  public Federation dimension(int value) {
    if (value <= 0) {
      throw new IllegalArgumentException("embedding dimension must be positive, got " + value);
    }
    this.dimension = value;
    return this;
  }

  public Federation classes(int value) {
    if (value < 2) {
      throw new IllegalArgumentException("class count must be at least 2, got " + value);
    }
    this.classCount = value;
    return this;
  }

  public Federation clusters(int value) {
    if (value < 1) {
      throw new IllegalArgumentException("cluster count must be at least 1, got " + value);
    }
    this.clusters = value;
    return this;
  }

  public Federation logitScale(float value) {
    if (!(value > 0) || !Float.isFinite(value)) {
      throw new IllegalArgumentException("logit scale must be positive, got " + value);
    }
    this.logitScale = value;
    return this;
  }

  /**
   * Aggregation strategy (default fedavg) with its parameters (absent ones take its defaults); see
   * docs/strategies.md.
   */
  public Federation strategy(String name, Map<String, Double> parameters) {
    this.strategy = name;
    this.strategyParameters = Map.copyOf(parameters);
    return this;
  }

  public Federation strategy(String name) {
    return strategy(name, Map.of());
  }

  /** What sites train with (epochs, batch size, learning rate, ...): the spec's client settings. */
  public Federation training(TrainSettings value) {
    this.training = value;
    return this;
  }

  /**
   * Adjusts the spec (client settings, limits, another strategy) after the defaults and the
   * strategy are set.
   */
  public Federation adjust(Consumer<FederationSpec.Builder> value) {
    this.adjust = value;
    return this;
  }

  /** What made this federation, for the spec's record (a command line). */
  public Federation change(String value) {
    this.change = value;
    return this;
  }

  /** Only these sites may upload (registry ROOT/_sites); without it any site may. */
  public Federation sites(Collection<String> value) {
    this.sites = value;
    return this;
  }

  /**
   * Start from this head instead of zeros (bootstrap); {@code how} says how it was made (zero-shot,
   * synthetic).
   */
  public Federation initialHead(Head head, String how) {
    this.initial = head;
    this.initialCache = null;
    this.initialization = how;
    this.dimension = head.dimension();
    this.classCount = head.classCount();
    this.logitScale = head.logitScale();
    return this;
  }

  /**
   * Start from a Tip-Adapter cache model instead of a head: {@code cache} holds the keys, their
   * labels, alpha, beta and the head part; {@code how} says how it was made.
   */
  public Federation initialCache(CacheModel cache, String how) {
    initialHead(cache.head(), how);
    this.initialCache = cache;
    return this;
  }

  /** The spec this federation starts under. */
  public FederationSpec spec() {
    if (dimension <= 0 || classCount <= 0) {
      throw new IllegalArgumentException(
          "a federation needs an embedding dimension and a class count");
    }
    FederationSpec.Builder spec =
        Specs.defaults(
                initialCache != null ? ModelKind.CACHE : ModelKind.HEAD,
                dimension,
                classCount,
                clusters,
                initialization)
            .setChange(change);
    Specs.setStrategy(spec, strategy, strategyParameters);
    if (training != null) {
      spec.getClient().setEpochs(training.epochs());
      spec.getClient().setBatchSize(training.batchSize());
      spec.getClient().setLearningRate(training.learningRate());
      spec.getClient().setMomentum(training.momentum());
      spec.getClient().setWeightDecay(training.weightDecay());
      spec.getClient().setBalancedLoss(training.balancedLoss());
    }
    adjust.accept(spec);
    FederationSpec built = spec.build();
    Specs.check(built);
    return built;
  }

  /**
   * Writes the spec and the round-0 models and moves the pointer; refuses a store that already has
   * a federation.
   */
  public List<Model> execute() {
    FederationSpec spec = spec();
    store
        .latest()
        .ifPresent(
            latest -> {
              throw new IllegalStateException(
                  "Cannot init "
                      + store.root()
                      + ": it already holds a federation at round "
                      + latest.round()
                      + " (use a new store URI)");
            });
    Specs.current(store)
        .ifPresent(
            existing -> {
              throw new IllegalStateException(
                  "Cannot init "
                      + store.root()
                      + ": it already holds federation spec version "
                      + existing.getSpecVersion()
                      + " (use a new store URI)");
            });
    Head head = initial != null ? initial : Head.zeros(dimension, classCount, logitScale);
    long now = System.currentTimeMillis();
    boolean scaffold = spec.getClient().getAlgorithm() == ClientAlgorithmName.SCAFFOLD;
    List<Model> models = new ArrayList<>();
    for (int cluster = 0; cluster < clusters; cluster++) {
      Model model =
          initialCache != null
              ? Models.initialCache(initialCache, cluster, initialization, scaffold, now)
              : Models.initialHead(head, cluster, initialization, scaffold, now);
      model.setSpecVersion(spec.getSpecVersion());
      model.setVersion(Models.version(model));
      models.add(model);
    }
    try {
      Specs.write(store, spec);
      if (sites != null) {
        store.registerSites(sites);
      }
      store.publish(0, models);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot init " + store.root() + ": " + e.getMessage(), e);
    }
    return models;
  }
}
