package fedlake.jobs;

import fedlake.core.aggregate.Strategy;
import fedlake.core.round.UpdateCheck;
import fedlake.core.round.UpdateFile;
import fedlake.core.round.UpdateReader;
import fedlake.core.round.UpdateScanner;
import fedlake.core.round.UpdateValidator;
import fedlake.core.store.Store;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * Reads a round's update files in Spark partitions. Each task opens the store with the driver's
 * Hadoop settings, checks or folds its files one at a time, and returns per-cluster partial sums;
 * the driver merges them. Memory per task is one update plus one accumulator per cluster, however
 * many updates there are, and the sums do not depend on partitioning (see ExactSum).
 */
public final class SparkScanner implements UpdateScanner {
  private final JavaSparkContext context;
  private Integer partitions;

  public SparkScanner(SparkSession spark) {
    this.context = JavaSparkContext.fromSparkContext(spark.sparkContext());
  }

  /** Spread the files over at most this many tasks (default: twice the default parallelism). */
  public SparkScanner partitions(int value) {
    if (value < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + value);
    }
    this.partitions = value;
    return this;
  }

  private int slices(int files) {
    int wanted = partitions != null ? partitions : context.defaultParallelism() * 2;
    return Math.max(1, Math.min(files, wanted));
  }

  private Broadcast<Map<String, String>> hadoopSettings() {
    return context.broadcast(new HashMap<>(Store.settings(context.hadoopConfiguration())));
  }

  @Override
  public List<UpdateCheck> check(List<UpdateFile> files, UpdateValidator validator) {
    if (files.isEmpty()) {
      return List.of();
    }
    Broadcast<Map<String, String>> settings = hadoopSettings();
    Broadcast<UpdateValidator> rules = context.broadcast(validator);
    return context.parallelize(new ArrayList<>(files), slices(files.size()))
        .mapPartitions((Iterator<UpdateFile> part) -> {
          UpdateReader reader = new UpdateReader(Store.configuration(settings.value()));
          List<UpdateCheck> checks = new ArrayList<>();
          part.forEachRemaining(file -> checks.add(reader.check(file, rules.value())));
          return checks.iterator();
        })
        .collect();
  }

  @Override
  public Map<Integer, Strategy.Accumulator> aggregate(List<UpdateCheck> accepted, UpdateValidator validator, Strategy strategy) {
    Broadcast<Map<String, String>> settings = hadoopSettings();
    Broadcast<UpdateValidator> rules = context.broadcast(validator);
    return context.parallelize(new ArrayList<>(accepted), slices(accepted.size()))
        .mapPartitions((Iterator<UpdateCheck> part) -> {
          UpdateReader reader = new UpdateReader(Store.configuration(settings.value()));
          Map<Integer, Strategy.Accumulator> sums = new HashMap<>();
          reader.aggregate(() -> part, rules.value(), strategy, sums);
          return List.of(sums).iterator();
        })
        .reduce(UpdateReader::merge);
  }
}
