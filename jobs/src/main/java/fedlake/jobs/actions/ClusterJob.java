package fedlake.jobs.actions;

import fedlake.core.InvalidInputException;
import fedlake.core.cluster.Assigner;
import fedlake.core.cluster.CentroidMatching;
import fedlake.core.cluster.ClusterEvents;
import fedlake.core.cluster.ClusterStore;
import fedlake.core.cluster.ProfileFeatures;
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.schema.SiteAssignment;
import fedlake.schema.SiteProfile;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.clustering.BisectingKMeans;
import org.apache.spark.ml.clustering.BisectingKMeansModel;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.clustering.KMeansModel;
import org.apache.spark.ml.evaluation.ClusteringEvaluator;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Clusters one round's site profiles with Spark MLlib (KMeans, BisectingKMeans or GaussianMixture),
 * with k fixed or chosen by silhouette over a range, and writes the round's assignments and cluster
 * history. Cluster ids are stable: this round's centres are matched to the previous clusters'
 * centres (recomputed on this round's profiles of their sites). Clusters smaller than the minimum
 * size are dissolved; a site's own informative lowest-loss choice counts as evidence. Reports a
 * collapse (all sites in one cluster although the profiles separate) and clusters that empty.
 */
public final class ClusterJob {
  public static final String KMEANS = "kmeans";
  public static final String BISECTING = "bisecting";
  public static final String GMM = "gmm";
  public static final int K_MIN_DEFAULT = 2;
  public static final int K_MAX_DEFAULT = 8;
  public static final int MIN_SIZE_DEFAULT = 2;
  public static final double K_CHANGE_MARGIN_DEFAULT = 0.1;

  /**
   * A fresh partition with another k that scores a higher silhouette than the kept one in this many
   * rounds running replaces it, even without winning by the margin.
   */
  static final int EVIDENCE_ROUNDS = 3;

  /**
   * A cluster whose two-way split scores at least this silhouette among its own members is split
   * (unless the partition's own silhouette is lower still, see {@link #splitDisagreeing}).
   */
  static final double SPLIT_SILHOUETTE = 0.5;

  public static final int RESTARTS_DEFAULT = 3;
  private static final long ROWS_PER_PARTITION = 25_000;

  private final SparkSession spark;
  private final List<Dataset<Row>> cached = new ArrayList<>();
  private final Store store;
  private Integer round;
  private String algorithm = KMEANS;
  private Integer k;
  private int kMin = K_MIN_DEFAULT;
  private int kMax = K_MAX_DEFAULT;
  private int minSize = MIN_SIZE_DEFAULT;
  private long seed = 0;
  private int restarts = RESTARTS_DEFAULT;
  private ProfileFeatures weights = ProfileFeatures.defaults();
  private double choiceMargin = Assigner.CHOICE_MARGIN_DEFAULT;
  private double separableSilhouette = ClusterEvents.SEPARABLE_SILHOUETTE_DEFAULT;
  private double kChangeMargin = K_CHANGE_MARGIN_DEFAULT;

  public ClusterJob(SparkSession spark, Store store) {
    this.spark = spark;
    this.store = store;
  }

  /** Round whose profiles to cluster (default: the latest round with profiles). */
  public ClusterJob round(Integer value) {
    this.round = value;
    return this;
  }

  public ClusterJob algorithm(String value) {
    if (!Set.of(KMEANS, BISECTING, GMM).contains(value)) {
      throw new IllegalArgumentException(
          "cluster: --algorithm must be kmeans, bisecting or gmm, got '" + value + "'");
    }
    this.algorithm = value;
    return this;
  }

  /** A fixed number of clusters; null chooses k by silhouette over {@link #kRange}. */
  public ClusterJob k(Integer value) {
    if (value != null && value < 1) {
      throw new IllegalArgumentException("cluster: --k must be at least 1, got " + value);
    }
    this.k = value;
    return this;
  }

  /** Parses {@code auto} or a whole number. */
  public ClusterJob k(String value) {
    if ("auto".equals(value)) {
      return k((Integer) null);
    }
    try {
      return k(Integer.valueOf(value.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "cluster: --k must be 'auto' or a whole number, got '" + value + "'");
    }
  }

  public ClusterJob kRange(int min, int max) {
    if (min < 2 || max < min) {
      throw new IllegalArgumentException(
          "cluster: --k-range must be MIN..MAX with 2 <= MIN <= MAX, got " + min + ".." + max);
    }
    this.kMin = min;
    this.kMax = max;
    return this;
  }

  /** Parses {@code MIN..MAX}. */
  public ClusterJob kRange(String value) {
    String[] parts = value.split("\\.\\.");
    try {
      if (parts.length != 2) {
        throw new NumberFormatException();
      }
      return kRange(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "cluster: --k-range must look like 2..8, got '" + value + "'");
    }
  }

  public ClusterJob minSize(int value) {
    if (value < 1) {
      throw new IllegalArgumentException("cluster: --min-size must be at least 1, got " + value);
    }
    this.minSize = value;
    return this;
  }

  /**
   * k-means (and the k-means start of a mixture) runs from this many seeds and keeps the lowest
   * cost.
   */
  public ClusterJob restarts(int value) {
    if (value < 1) {
      throw new IllegalArgumentException("cluster: --restarts must be at least 1, got " + value);
    }
    this.restarts = value;
    return this;
  }

  public ClusterJob seed(long value) {
    this.seed = value;
    return this;
  }

  public ClusterJob weights(ProfileFeatures value) {
    this.weights = value;
    return this;
  }

  public ClusterJob choiceMargin(double value) {
    if (!(value >= 0)) {
      throw new IllegalArgumentException("cluster: --choice-margin must be >= 0, got " + value);
    }
    this.choiceMargin = value;
    return this;
  }

  /**
   * How much higher a fresh fit's silhouette must be to replace the previous assignment
   * (warm-started on this round).
   */
  public ClusterJob kChangeMargin(double value) {
    if (!(value >= 0)) {
      throw new IllegalArgumentException("cluster: --k-change-margin must be >= 0, got " + value);
    }
    this.kChangeMargin = value;
    return this;
  }

  public ClusterJob separableSilhouette(double value) {
    this.separableSilhouette = value;
    return this;
  }

  /** What the job decided. */
  public record Result(
      int round,
      int sites,
      String algorithm,
      int k,
      String kChosenBy,
      Double silhouette,
      Double separability,
      Map<Integer, Double> silhouettes,
      Map<Integer, Integer> sizes,
      Map<String, Integer> assignments,
      boolean collapsed,
      List<Integer> emptied,
      List<String> warnings,
      long millis) {}

  /** One profile turned into what the clustering needs. */
  record Point(
      long id, String site, int trained, Integer choice, boolean informative, double[] features)
      implements Serializable {}

  public Result execute() {
    long started = System.currentTimeMillis();
    int round = this.round != null ? this.round : latestProfiledRound();
    Path dir = ClusterStore.profilesRound(store, round);
    try {
      if (!store.fileSystem().exists(dir)) {
        throw new IllegalStateException(
            "No profiles for round " + round + " in " + dir + ": run 'fedlake profiles' first");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + dir, e);
    }
    Dataset<Row> table =
        spark.read().parquet(dir.toString()).withColumn("_file", functions.input_file_name());
    Row first = table.select("labelHistogram", "direction").first();
    int classCount = first.getList(0).size();
    int projected = first.getList(1).size();
    boolean embedding =
        weights.embeddingWeight() > 0
            && table.filter(functions.col("embeddingMean").isNull()).isEmpty();
    boolean hasPosition = java.util.Arrays.asList(table.columns()).contains("position");
    boolean position =
        hasPosition
            && weights.positionWeight() > 0
            && table
                .filter(
                    functions
                        .col("position")
                        .isNull()
                        .or(functions.size(functions.col("position")).notEqual(projected)))
                .isEmpty();
    boolean hasCentroid = java.util.Arrays.asList(table.columns()).contains("centroid");
    boolean centroid =
        hasCentroid
            && weights.centroidWeight() > 0
            && table.filter(functions.col("centroid").isNull()).isEmpty();
    ProfileFeatures features = weights.withBlocks(position, embedding, centroid);
    Dataset<Row> withPosition =
        hasPosition
            ? table
            : table.withColumn("position", functions.lit(null).cast("array<float>"));
    if (!hasCentroid) { // profiles written before the centroid existed
      withPosition = withPosition.withColumn("centroid", functions.lit(null).cast("array<float>"));
    }

    JavaRDD<Row> checked =
        withPosition
            .select(
                "site",
                "cluster",
                "clusterChoice",
                "choiceInformative",
                "labelHistogram",
                "direction",
                "embeddingMean",
                "_file",
                "position",
                "centroid")
            .javaRDD();
    List<Row> bad =
        checked
            .filter(row -> ProfileFeatures.problem(profile(row), classCount, projected) != null)
            .take(1);
    if (!bad.isEmpty()) {
      Row row = bad.get(0);
      throw new InvalidInputException(
          row.getString(7), ProfileFeatures.problem(profile(row), classCount, projected));
    }
    JavaRDD<Point> points =
        checked
            .zipWithIndex()
            .map(
                t -> {
                  Row row = t._1();
                  return new Point(
                      t._2(),
                      row.getString(0),
                      row.getInt(1),
                      row.isNullAt(2) ? null : row.getInt(2),
                      row.getBoolean(3),
                      features.vector(profile(row)));
                });
    points.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      return cluster(round, dir, points, features, started);
    } finally {
      points.unpersist(false);
    }
  }

  private Result cluster(
      int round, Path dir, JavaRDD<Point> points, ProfileFeatures features, long started) {
    long n = points.count();
    List<String> duplicates =
        points.map(Point::site).countByValue().entrySet().stream()
            .filter(e -> e.getValue() > 1)
            .map(Map.Entry::getKey)
            .sorted()
            .limit(3)
            .toList();
    if (!duplicates.isEmpty()) {
      throw new InvalidInputException(
          dir.toString(), "holds more than one profile of site(s) " + duplicates);
    }
    if (k != null && k > n) {
      throw new IllegalArgumentException(
          "Cannot make " + k + " clusters from " + n + " site profile(s) in " + dir);
    }
    StructType schema =
        new StructType(
            new StructField[] {
              new StructField("id", DataTypes.LongType, false, Metadata.empty()),
              new StructField("features", new VectorUDT(), false, Metadata.empty())
            });
    // MLlib iterates over the frame many times: few, large partitions keep the per-task cost down
    int partitions =
        (int)
            Math.max(
                1,
                Math.min(
                    points.getNumPartitions(), (n + ROWS_PER_PARTITION - 1) / ROWS_PER_PARTITION));
    Dataset<Row> frame =
        spark
            .createDataFrame(
                points.map(p -> RowFactory.create(p.id(), Vectors.dense(p.features()))), schema)
            .coalesce(partitions);
    frame.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      // the previous assignment, warm-started on this round's profiles: kept unless a fresh fit is
      // clearly better
      var previous = ClusterStore.latestBefore(store, round);
      Map<String, Integer> previousBySite =
          previous.map(ClusterStore.Assignments::bySite).orElse(Map.of());
      SortedMap<Integer, double[]> previousCentres = previousCentres(points, previousBySite);
      Fitted fromPrevious = carriedOver(points, previousCentres);
      // with a fixed k the previous partition only competes when it has that k
      Fitted carried =
          fromPrevious != null && (k == null || fromPrevious.k() == k) ? fromPrevious : null;
      Double carriedSilhouette = carried == null ? null : silhouette(carried.predictions());

      Map<Integer, Double> silhouettes = new TreeMap<>();
      Fitted chosen;
      String kChosenBy;
      Double separability = null;
      double best = Double.NEGATIVE_INFINITY;
      if (k != null) {
        chosen = fit(frame, k, round);
        kChosenBy = "fixed";
        if (chosen.sizes().size() > 1) {
          silhouettes.put(k, silhouette(chosen.predictions()));
          best = silhouettes.get(k);
          separability = best;
        }
        if (carried != null && !(best - carriedSilhouette >= kChangeMargin)) {
          chosen = carried;
          kChosenBy = "fixed (previous kept)";
        }
      } else {
        kChosenBy = "silhouette";
        int top = (int) Math.min(kMax, n - 1);
        chosen = null;
        for (int candidate = kMin; candidate <= top; candidate++) {
          Fitted fitted = fit(frame, candidate, round);
          double s = fitted.sizes().size() > 1 ? silhouette(fitted.predictions()) : Double.NaN;
          silhouettes.put(candidate, s);
          if (s > best) {
            best = s;
            chosen = fitted;
          }
        }
        if (carried != null
            && !(best - carriedSilhouette >= kChangeMargin)
            && !(chosen != null
                && chosen.k() != carried.k()
                && best > carriedSilhouette
                && freshWonBefore(round, EVIDENCE_ROUNDS - 1))) {
          chosen = carried;
          kChosenBy = "previous (kept)";
          separability = Math.max(best, carriedSilhouette);
        } else if (carried != null
            && chosen != null
            && !(best - carriedSilhouette >= kChangeMargin)) {
          kChosenBy = "silhouette (better " + EVIDENCE_ROUNDS + " rounds running)";
          separability = best;
        } else if (chosen == null) { // fewer than three profiles, or no k split them
          chosen = fit(frame, 1, round);
        } else {
          separability = best;
        }
      }
      Double silhouette = chosen == carried ? carriedSilhouette : silhouettes.get(chosen.k());
      if (silhouette != null && silhouette.isNaN()) {
        silhouette = null;
      }
      // the split test: a cluster whose members fall clearly into two groups is split in two
      if (k == null && silhouette != null && chosen.sizes().size() > 1) {
        int room = (int) Math.min(kMax, n - 1) - chosen.sizes().size();
        Fitted split = splitDisagreeing(chosen, silhouette, round, room);
        if (split != null) {
          int splits = split.sizes().size() - chosen.sizes().size();
          if (previousBySite.isEmpty() || disagreedBefore(round, EVIDENCE_ROUNDS - 1)) {
            chosen = split;
            silhouette = silhouette(split.predictions());
            kChosenBy += " + split of " + splits + " disagreeing cluster(s)";
            separability = separability == null ? silhouette : Math.max(separability, silhouette);
          } else {
            kChosenBy += " (" + splits + " cluster(s) disagree)";
          }
        }
      }

      Latest latest = store.latest().orElse(null);
      Set<Integer> modelIds = latest == null ? Set.of() : latest.versions().keySet();
      Map<Integer, Integer> previousSizes =
          previous.map(ClusterStore.Assignments::sizes).orElse(Map.of());
      Set<Integer> idle = new TreeSet<>(modelIds);
      previousSizes.forEach(
          (id, size) -> {
            if (size > 0) {
              idle.remove(id);
            }
          });
      Set<Integer> taken = new TreeSet<>(modelIds);
      taken.addAll(previousSizes.keySet());

      // dissolve raw clusters below the minimum size (keep the largest if none reaches it)
      List<Integer> eligible = new ArrayList<>();
      chosen
          .sizes()
          .forEach(
              (raw, size) -> {
                if (size >= minSize) {
                  eligible.add(raw);
                }
              });
      if (eligible.isEmpty()) {
        eligible.add(
            chosen.sizes().entrySet().stream()
                .max(Map.Entry.comparingByValue())
                .orElseThrow()
                .getKey());
      }
      double[][] centres = new double[eligible.size()][];
      long[] sizes = new long[eligible.size()];
      for (int i = 0; i < eligible.size(); i++) {
        centres[i] = chosen.centres()[eligible.get(i)];
        sizes[i] = chosen.sizes().get(eligible.get(i));
      }
      SortedMap<Integer, double[]> matchable = new TreeMap<>(previousCentres);
      int[] stable = CentroidMatching.stableIds(centres, sizes, matchable, idle, taken);
      Map<Integer, double[]> centreById = new HashMap<>();
      Map<Integer, Integer> stableByRaw = new HashMap<>();
      for (int i = 0; i < eligible.size(); i++) {
        centreById.put(stable[i], centres[i]);
        stableByRaw.put(eligible.get(i), stable[i]);
      }

      // final decision per site
      Assigner assigner = new Assigner(centreById, stableByRaw, choiceMargin);
      JavaSparkContext context = JavaSparkContext.fromSparkContext(spark.sparkContext());
      Broadcast<Assigner> rules = context.broadcast(assigner);
      Map<Long, Integer> rawById = chosen.rawById();
      Broadcast<Map<Long, Integer>> raws = context.broadcast(rawById);
      List<Object[]> decided =
          points
              .map(
                  p -> {
                    Assigner.Decision d =
                        rules
                            .value()
                            .assign(
                                p.features(),
                                raws.value().get(p.id()),
                                p.choice(),
                                p.informative());
                    return new Object[] {
                      p.site(), p.trained(), d.cluster(), d.distance(), d.reason()
                    };
                  })
              .collect();

      Map<Integer, Integer> finalSizes = new TreeMap<>();
      Map<Integer, Double> distanceSums = new TreeMap<>();
      Map<Integer, Map<Integer, Integer>> trainedBy = new HashMap<>();
      for (Object[] d : decided) {
        int cluster = (Integer) d[2];
        finalSizes.merge(cluster, 1, Integer::sum);
        distanceSums.merge(cluster, (Double) d[3], Double::sum);
        trainedBy
            .computeIfAbsent(cluster, c -> new TreeMap<>())
            .merge((Integer) d[1], 1, Integer::sum);
      }
      Map<Integer, Double> meanDistances = new TreeMap<>();
      distanceSums.forEach((c, sum) -> meanDistances.put(c, sum / finalSizes.get(c)));
      Map<Integer, Integer> parents = new TreeMap<>();
      for (int cluster : finalSizes.keySet()) {
        if (!modelIds.contains(cluster)) {
          parents.put(cluster, majority(cluster, trainedBy.get(cluster), modelIds));
        }
      }
      if (finalSizes.size() == 1 && n >= 2 && separability == null) {
        Fitted two = fit(frame, 2, round);
        separability = two.sizes().size() > 1 ? silhouette(two.predictions()) : null;
      }

      List<SiteAssignment> rows = new ArrayList<>();
      Map<String, Integer> bySite = new TreeMap<>();
      for (Object[] d : decided) {
        int cluster = (Integer) d[2];
        rows.add(
            SiteAssignment.newBuilder()
                .setRound(round)
                .setSite((String) d[0])
                .setCluster(cluster)
                .setDistance((Double) d[3])
                .setParentCluster(parents.get(cluster))
                .setReason((String) d[4])
                .build());
        bySite.put((String) d[0], cluster);
      }
      ClusterEvents.Outcome outcome =
          ClusterEvents.of(
              round,
              finalSizes,
              previousSizes,
              meanDistances,
              new ClusterEvents.Fit(algorithm, chosen.k(), kChosenBy, silhouette, separability),
              separableSilhouette,
              minSize,
              System.currentTimeMillis());
      try {
        ClusterStore.writeAssignments(store, round, rows);
        ClusterStore.writeHistory(store, round, outcome.rows());
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot write assignments of round "
                + round
                + " to "
                + store.root()
                + ": "
                + e.getMessage(),
            e);
      }
      return new Result(
          round,
          (int) n,
          algorithm,
          chosen.k(),
          kChosenBy,
          silhouette,
          separability,
          silhouettes,
          finalSizes,
          bySite,
          outcome.collapsed(),
          outcome.emptied(),
          outcome.warnings(),
          System.currentTimeMillis() - started);
    } finally {
      frame.unpersist(false);
      cached.forEach(d -> d.unpersist(false));
      cached.clear();
    }
  }

  /**
   * A fitted clustering: predictions (id, features, prediction), centres by raw index, sizes by raw
   * index.
   */
  record Fitted(int k, Dataset<Row> predictions, double[][] centres, Map<Integer, Long> sizes) {
    Map<Long, Integer> rawById() {
      Map<Long, Integer> map = new HashMap<>();
      for (Row row : predictions.select("id", "prediction").collectAsList()) {
        map.put(row.getLong(0), row.getInt(1));
      }
      return map;
    }
  }

  /** The model most of a new cluster's sites trained: the new cluster's model starts from it. */
  private static int majority(int cluster, Map<Integer, Integer> trained, Set<Integer> modelIds) {
    int best = -1;
    int count = -1;
    for (Map.Entry<Integer, Integer> e : trained.entrySet()) {
      if ((modelIds.isEmpty() || modelIds.contains(e.getKey())) && e.getValue() > count) {
        best = e.getKey();
        count = e.getValue();
      }
    }
    if (best < 0) {
      throw new IllegalStateException(
          "Cannot create cluster "
              + cluster
              + ": none of its sites trained a model that exists now");
    }
    return best;
  }

  private Fitted fit(Dataset<Row> frame, int clusters, int round) {
    long fitSeed = seed * 1_000_003L + round * 7919L + clusters;
    Vector[] centres;
    Dataset<Row> predictions;
    switch (algorithm) {
      case BISECTING -> {
        BisectingKMeansModel model =
            new BisectingKMeans()
                .setK(clusters)
                .setSeed(fitSeed)
                .setFeaturesCol("features")
                .fit(frame);
        centres = model.clusterCenters();
        predictions = model.transform(frame);
      }
      case GMM -> {
        // MLlib's random start often leaves a component empty; start from k-means instead (as is
        // usual for GMMs)
        KMeansModel start = kmeans(frame, clusters, fitSeed);
        org.apache.spark.mllib.clustering.GaussianMixtureModel model =
            new org.apache.spark.mllib.clustering.GaussianMixture()
                .setK(clusters)
                .setSeed(fitSeed)
                .setInitialModel(initialMixture(start, frame))
                .run(
                    frame
                        .select("features")
                        .javaRDD()
                        .map(r -> org.apache.spark.mllib.linalg.Vectors.fromML(r.<Vector>getAs(0)))
                        .rdd());
        centres =
            java.util.Arrays.stream(model.gaussians())
                .map(g -> g.mu().asML())
                .toArray(Vector[]::new);
        org.apache.spark.mllib.clustering.GaussianMixtureModel fitted = model;
        JavaRDD<Row> rows =
            frame
                .javaRDD()
                .map(
                    r ->
                        RowFactory.create(
                            r.getLong(0),
                            r.get(1),
                            fitted.predict(
                                org.apache.spark.mllib.linalg.Vectors.fromML(r.<Vector>getAs(1)))));
        predictions =
            spark.createDataFrame(
                rows,
                new StructType(
                    new StructField[] {
                      new StructField("id", DataTypes.LongType, false, Metadata.empty()),
                      new StructField("features", new VectorUDT(), false, Metadata.empty()),
                      new StructField("prediction", DataTypes.IntegerType, false, Metadata.empty())
                    }));
      }
      default -> {
        KMeansModel model = kmeans(frame, clusters, fitSeed);
        centres = model.clusterCenters();
        predictions = model.transform(frame);
      }
    }
    double[][] arrays = new double[centres.length][];
    for (int i = 0; i < centres.length; i++) {
      arrays[i] = centres[i].toArray();
    }
    return fitted(clusters, predictions, arrays);
  }

  private Fitted fitted(int clusters, Dataset<Row> predictions, double[][] centres) {
    Dataset<Row> kept =
        predictions.select("id", "features", "prediction").persist(StorageLevel.MEMORY_AND_DISK());
    cached.add(kept);
    Map<Integer, Long> sizes = new TreeMap<>();
    for (Row row : kept.groupBy("prediction").count().collectAsList()) {
      sizes.put(row.getInt(0), row.getLong(1));
    }
    return new Fitted(clusters, kept, centres, sizes);
  }

  /**
   * The best of {@link #restarts} MLlib k-means fits from different seeds (lowest within-cluster
   * sum of squares): one k-means|| start can land in a poor local optimum that merges two groups
   * and splits another.
   */
  private KMeansModel kmeans(Dataset<Row> frame, int clusters, long fitSeed) {
    KMeansModel best = null;
    for (int r = 0; r < restarts; r++) {
      KMeansModel model =
          new KMeans()
              .setK(clusters)
              .setSeed(fitSeed + 104_729L * r)
              .setMaxIter(50)
              .setFeaturesCol("features")
              .fit(frame);
      if (best == null || model.summary().trainingCost() < best.summary().trainingCost()) {
        best = model;
      }
    }
    return best;
  }

  /**
   * A mixture with k-means' centres, weights by cluster size, and the pooled per-dimension variance
   * (plus a floor).
   */
  private static org.apache.spark.mllib.clustering.GaussianMixtureModel initialMixture(
      KMeansModel start, Dataset<Row> frame) {
    Vector[] centres = start.clusterCenters();
    int k = centres.length;
    int d = centres[0].size();
    Broadcast<Vector[]> shared =
        JavaSparkContext.fromSparkContext(frame.sparkSession().sparkContext()).broadcast(centres);
    double[] totals =
        frame
            .javaRDD()
            .map(
                r -> {
                  Vector x = r.<Vector>getAs(1);
                  Vector[] c = shared.value();
                  int best = 0;
                  double bestDistance = Double.POSITIVE_INFINITY;
                  for (int i = 0; i < c.length; i++) {
                    double dist = Vectors.sqdist(x, c[i]);
                    if (dist < bestDistance) {
                      bestDistance = dist;
                      best = i;
                    }
                  }
                  double[] row = new double[c.length + x.size()];
                  row[best] = 1;
                  for (int j = 0; j < x.size(); j++) {
                    double diff = x.apply(j) - c[best].apply(j);
                    row[c.length + j] = diff * diff;
                  }
                  return row;
                })
            .reduce(
                (a, b) -> {
                  double[] sum = a.clone();
                  for (int i = 0; i < sum.length; i++) {
                    sum[i] += b[i];
                  }
                  return sum;
                });
    double n = 0;
    for (int i = 0; i < k; i++) {
      n += totals[i];
    }
    double[] weights = new double[k];
    org.apache.spark.mllib.stat.distribution.MultivariateGaussian[] gaussians =
        new org.apache.spark.mllib.stat.distribution.MultivariateGaussian[k];
    double[] variance = new double[d * d];
    for (int j = 0; j < d; j++) {
      variance[j * d + j] = Math.max(totals[k + j] / n, 1e-4);
    }
    double weightSum = 0;
    for (int i = 0; i < k; i++) {
      weightSum += Math.max(totals[i], 1);
    }
    for (int i = 0; i < k; i++) {
      weights[i] = Math.max(totals[i], 1) / weightSum;
      gaussians[i] =
          new org.apache.spark.mllib.stat.distribution.MultivariateGaussian(
              org.apache.spark.mllib.linalg.Vectors.fromML(centres[i]),
              org.apache.spark.mllib.linalg.Matrices.dense(d, d, variance.clone()));
    }
    return new org.apache.spark.mllib.clustering.GaussianMixtureModel(weights, gaussians);
  }

  /**
   * Whether in each of the {@code rounds} rounds before {@code round} the kept partition stood
   * although a fresh fit scored a higher silhouette (history: kept, separability above the chosen
   * silhouette). A fresh partition that is better round after round replaces the kept one even when
   * it never wins by the margin: a merge made on round 1's thin evidence does not last.
   */
  private boolean freshWonBefore(int round, int rounds) {
    if (rounds <= 0) {
      return true;
    }
    Map<Integer, fedlake.schema.ClusterHistory> byRound = new TreeMap<>();
    for (fedlake.schema.ClusterHistory row : ClusterStore.readHistory(store)) {
      if (row.getRound() < round) {
        byRound.putIfAbsent(row.getRound(), row);
      }
    }
    for (int r = round - 1; r >= round - rounds; r--) {
      fedlake.schema.ClusterHistory row = byRound.get(r);
      if (row == null
          || row.getKChosenBy() == null
          || !row.getKChosenBy().startsWith("previous")
          || row.getSeparability() == null
          || row.getSilhouette() == null
          || !(row.getSeparability() > row.getSilhouette())) {
        return false;
      }
    }
    return true;
  }

  /**
   * The split test: every cluster of {@code partition} with room for two halves of at least the
   * minimum size is split in two by k-means (from {@link #restarts} seeds); it disagrees when the
   * silhouette of that split, among its own members, exceeds {@code max(separableSilhouette,
   * min(partitionSilhouette, SPLIT_SILHOUETTE))}: its members fall into two groups more clearly
   * than the clusters differ from each other, or clearly in absolute terms. The silhouette over a
   * range of k misses such a cluster when one group lies far from the others (two nearby datasets
   * then score higher merged). Returns the partition with every disagreeing cluster split (at most
   * {@code room} of them, most disagreeing first), or null when none disagrees.
   */
  private Fitted splitDisagreeing(
      Fitted partition, double partitionSilhouette, int round, int room) {
    if (room <= 0) {
      return null;
    }
    double threshold =
        Math.max(separableSilhouette, Math.min(partitionSilhouette, SPLIT_SILHOUETTE));
    int smallest = Math.max(2, minSize);
    record Candidate(int raw, double silhouette, KMeansModel model, Dataset<Row> halves) {}
    List<Candidate> candidates = new ArrayList<>();
    for (Map.Entry<Integer, Long> cluster : partition.sizes().entrySet()) {
      if (cluster.getValue() < 2L * smallest) {
        continue;
      }
      int raw = cluster.getKey();
      Dataset<Row> members =
          partition
              .predictions()
              .filter(functions.col("prediction").equalTo(raw))
              .select("id", "features");
      KMeansModel two =
          kmeans(members, 2, seed * 1_000_003L + round * 7919L + 100_003L * (raw + 1));
      if (two.clusterCenters().length != 2) {
        continue; // identical members: nothing to split
      }
      Dataset<Row> halves = two.transform(members).persist(StorageLevel.MEMORY_AND_DISK());
      cached.add(halves);
      long[] sizes = new long[2];
      for (Row row : halves.groupBy("prediction").count().collectAsList()) {
        sizes[row.getInt(0)] = row.getLong(1);
      }
      if (sizes[0] < smallest || sizes[1] < smallest) {
        continue;
      }
      double s = silhouette(halves);
      if (s > threshold) {
        candidates.add(new Candidate(raw, s, two, halves));
      }
    }
    if (candidates.isEmpty()) {
      return null;
    }
    candidates.sort((a, b) -> Double.compare(b.silhouette(), a.silhouette()));
    List<Candidate> applied = candidates.subList(0, Math.min(room, candidates.size()));
    double[][] centres = java.util.Arrays.copyOf(partition.centres(), partition.centres().length);
    List<double[]> added = new ArrayList<>();
    Dataset<Row> moved = null;
    int next = partition.centres().length;
    for (Candidate c : applied) {
      centres[c.raw()] = c.model().clusterCenters()[0].toArray();
      added.add(c.model().clusterCenters()[1].toArray());
      Dataset<Row> half =
          c.halves()
              .filter(functions.col("prediction").equalTo(1))
              .select(functions.col("id").as("_moved"), functions.lit(next).as("_to"));
      moved = moved == null ? half : moved.union(half);
      next++;
    }
    double[][] all = java.util.Arrays.copyOf(centres, centres.length + added.size());
    for (int i = 0; i < added.size(); i++) {
      all[centres.length + i] = added.get(i);
    }
    Dataset<Row> predictions =
        partition
            .predictions()
            .join(
                moved, partition.predictions().col("id").equalTo(moved.col("_moved")), "left_outer")
            .select(
                functions.col("id"),
                functions.col("features"),
                functions
                    .coalesce(functions.col("_to"), functions.col("prediction"))
                    .cast(DataTypes.IntegerType)
                    .as("prediction"));
    return fitted(all.length, predictions, all);
  }

  /**
   * Whether in each of the {@code rounds} rounds before {@code round} the split test found a
   * disagreeing cluster (history: kChosenBy names it): a kept partition is split only on the
   * evidence of several rounds.
   */
  private boolean disagreedBefore(int round, int rounds) {
    Map<Integer, fedlake.schema.ClusterHistory> byRound = new TreeMap<>();
    for (fedlake.schema.ClusterHistory row : ClusterStore.readHistory(store)) {
      if (row.getRound() < round) {
        byRound.putIfAbsent(row.getRound(), row);
      }
    }
    for (int r = round - 1; r >= round - rounds; r--) {
      fedlake.schema.ClusterHistory row = byRound.get(r);
      if (row == null || row.getKChosenBy() == null || !row.getKChosenBy().contains("disagree")) {
        return false;
      }
    }
    return true;
  }

  private static double silhouette(Dataset<Row> predictions) {
    return new ClusteringEvaluator()
        .setFeaturesCol("features")
        .setPredictionCol("prediction")
        .setMetricName("silhouette")
        .setDistanceMeasure("squaredEuclidean")
        .evaluate(predictions);
  }

  /**
   * The previous assignment carried over to this round: every site at the nearest of the previous
   * clusters, re-centred on this round's profiles of their sites (one k-means step warm-started
   * from the previous partition). Null when fewer than two previous clusters hold sites now.
   */
  private Fitted carriedOver(JavaRDD<Point> points, SortedMap<Integer, double[]> previousCentres) {
    if (previousCentres.size() < 2) {
      return null;
    }
    double[][] centres = previousCentres.values().toArray(double[][]::new);
    Broadcast<double[][]> shared =
        JavaSparkContext.fromSparkContext(points.context()).broadcast(centres);
    JavaRDD<Row> rows =
        points.map(
            p -> {
              double[][] c = shared.value();
              int nearest = 0;
              for (int i = 1; i < c.length; i++) {
                if (CentroidMatching.squaredDistance(p.features(), c[i])
                    < CentroidMatching.squaredDistance(p.features(), c[nearest])) {
                  nearest = i;
                }
              }
              return RowFactory.create(p.id(), Vectors.dense(p.features()), nearest);
            });
    Dataset<Row> predictions =
        spark.createDataFrame(
            rows,
            new StructType(
                new StructField[] {
                  new StructField("id", DataTypes.LongType, false, Metadata.empty()),
                  new StructField("features", new VectorUDT(), false, Metadata.empty()),
                  new StructField("prediction", DataTypes.IntegerType, false, Metadata.empty())
                }));
    Fitted fitted = fitted(centres.length, predictions, centres);
    return fitted.sizes().size() < 2 ? null : fitted;
  }

  private static SortedMap<Integer, double[]> previousCentres(
      JavaRDD<Point> points, Map<String, Integer> previousBySite) {
    SortedMap<Integer, double[]> centres = new TreeMap<>();
    if (previousBySite.isEmpty()) {
      return centres;
    }
    Broadcast<Map<String, Integer>> previous =
        JavaSparkContext.fromSparkContext(points.context())
            .broadcast(new HashMap<>(previousBySite));
    Map<Integer, double[]> sums =
        points
            .mapPartitions(
                (Iterator<Point> part) -> {
                  Map<Integer, double[]> local = new HashMap<>();
                  while (part.hasNext()) {
                    Point p = part.next();
                    Integer cluster = previous.value().get(p.site());
                    if (cluster != null) {
                      double[] sum =
                          local.computeIfAbsent(cluster, c -> new double[p.features().length + 1]);
                      for (int i = 0; i < p.features().length; i++) {
                        sum[i] += p.features()[i];
                      }
                      sum[p.features().length] += 1;
                    }
                  }
                  return List.of(local).iterator();
                })
            .reduce(
                (a, b) -> {
                  Map<Integer, double[]> merged = new HashMap<>(a);
                  b.forEach(
                      (c, sum) ->
                          merged.merge(
                              c,
                              sum,
                              (x, y) -> {
                                double[] z = x.clone();
                                for (int i = 0; i < z.length; i++) {
                                  z[i] += y[i];
                                }
                                return z;
                              }));
                  return merged;
                });
    sums.forEach(
        (cluster, sum) -> {
          int length = sum.length - 1;
          double[] centre = new double[length];
          for (int i = 0; i < length; i++) {
            centre[i] = sum[i] / sum[length];
          }
          centres.put(cluster, centre);
        });
    return centres;
  }

  static SiteProfile profile(Row row) {
    SiteProfile p = new SiteProfile();
    p.setSite(row.getString(0));
    p.setLabelHistogram(row.getList(4));
    p.setDirection(row.getList(5));
    p.setEmbeddingMean(row.isNullAt(6) ? null : row.getList(6));
    p.setPosition(row.isNullAt(8) ? null : row.getList(8));
    p.setCentroid(row.isNullAt(9) ? null : row.getList(9));
    return p;
  }

  private int latestProfiledRound() {
    Path dir = ClusterStore.profilesDir(store);
    int latest = -1;
    try {
      if (store.fileSystem().exists(dir)) {
        for (var status : store.fileSystem().listStatus(dir)) {
          String name = status.getPath().getName();
          if (status.isDirectory() && name.startsWith("round=")) {
            latest = Math.max(latest, Integer.parseInt(name.substring("round=".length())));
          }
        }
      }
    } catch (IOException | NumberFormatException e) {
      throw new IllegalStateException("Cannot list profiles in " + dir + ": " + e.getMessage(), e);
    }
    if (latest < 0) {
      throw new IllegalStateException(
          "No profiles in " + dir + ": run 'fedlake profiles --store " + store.root() + "' first");
    }
    return latest;
  }

  /** One line per cluster, for the command's output. */
  public static String describe(Result r) {
    StringBuilder text =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "Round %d: %d site(s) in %d cluster(s) (%s, k=%d by %s%s); sizes %s%n",
                r.round(),
                r.sites(),
                r.sizes().size(),
                r.algorithm(),
                r.k(),
                r.kChosenBy(),
                r.silhouette() == null
                    ? ""
                    : String.format(Locale.ROOT, ", silhouette %.3f", r.silhouette()),
                r.sizes()));
    if (!r.silhouettes().isEmpty() && r.k() != 1) {
      text.append("  silhouette by k: ");
      r.silhouettes()
          .forEach((kk, s) -> text.append(String.format(Locale.ROOT, "%d=%.3f ", kk, s)));
      text.append('\n');
    }
    for (String w : r.warnings()) {
      text.append("  WARNING: ").append(w).append('\n');
    }
    return text.toString();
  }
}
