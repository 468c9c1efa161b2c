package fedlake.core;

import fedlake.core.aggregate.FedAvg;
import fedlake.core.aggregate.Scaffold;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Starts a new federation in a store: the round-0 model of every cluster, optionally a site registry. */
public final class Federation {
  private final Store store;
  private int dimension;
  private int classCount;
  private int clusters = 1;
  private float logitScale = Models.DEFAULT_LOGIT_SCALE;
  private Collection<String> sites;
  private Head initial;
  private CacheModel initialCache;
  private String strategy = "init";
  private String aggregation = FedAvg.NAME;

  public Federation(Store store) {
    this.store = store;
  }

  public Federation dimension(int value) {
    if (value <= 0) {
      throw new IllegalArgumentException("init: --dim must be positive, got " + value);
    }
    this.dimension = value;
    return this;
  }

  public Federation classes(int value) {
    if (value < 2) {
      throw new IllegalArgumentException("init: --classes must be at least 2, got " + value);
    }
    this.classCount = value;
    return this;
  }

  public Federation clusters(int value) {
    if (value < 1) {
      throw new IllegalArgumentException("init: --clusters must be at least 1, got " + value);
    }
    this.clusters = value;
    return this;
  }

  public Federation logitScale(float value) {
    if (!(value > 0) || !Float.isFinite(value)) {
      throw new IllegalArgumentException("init: --logit-scale must be positive, got " + value);
    }
    this.logitScale = value;
    return this;
  }

  /** Aggregation strategy of the federation: {@code fedavg} (default) or {@code scaffold}. */
  public Federation aggregation(String value) {
    if (!Scaffold.NAME.equals(value) && !FedAvg.NAME.equals(value)) {
      throw new IllegalArgumentException("init: --strategy must be 'scaffold' or 'fedavg', got '" + value + "'");
    }
    this.aggregation = value;
    return this;
  }

  /** Only these sites may upload (registry ROOT/_sites); without it any site may. */
  public Federation sites(Collection<String> value) {
    this.sites = value;
    return this;
  }

  /** Start from this head instead of zeros (bootstrap); {@code strategy} says how it was made. */
  public Federation initialHead(Head head, String how) {
    this.initial = head;
    this.initialCache = null;
    this.strategy = how;
    this.dimension = head.dimension();
    this.classCount = head.classCount();
    this.logitScale = head.logitScale();
    return this;
  }

  /**
   * Start from a Tip-Adapter cache model instead of a head: {@code cache} holds the keys, their
   * labels, alpha, beta and the head part; {@code strategy} says how it was made.
   */
  public Federation initialCache(CacheModel cache, String how) {
    initialHead(cache.head(), how);
    this.initialCache = cache;
    return this;
  }

  /** Writes the round-0 models and moves the pointer; refuses a store that already has models. */
  public List<Model> execute() {
    if (dimension <= 0 || classCount <= 0) {
      throw new IllegalArgumentException("init: --dim and --classes are required");
    }
    store.latest().ifPresent(latest -> {
      throw new IllegalStateException("Cannot init " + store.root() + ": it already holds a federation at round "
          + latest.round() + " (use a new store URI)");
    });
    Head head = initial != null ? initial : Head.zeros(dimension, classCount, logitScale);
    long now = System.currentTimeMillis();
    List<Model> models = new ArrayList<>();
    for (int cluster = 0; cluster < clusters; cluster++) {
      boolean scaffold = Scaffold.NAME.equals(aggregation);
      models.add(initialCache != null ? Models.initialCache(initialCache, cluster, strategy, scaffold, now)
          : Models.initialHead(head, cluster, strategy, scaffold, now));
    }
    try {
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
