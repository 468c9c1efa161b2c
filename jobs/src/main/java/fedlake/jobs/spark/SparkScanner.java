package fedlake.jobs.spark;

import fedlake.core.round.RoundRules;
import fedlake.core.round.ScanResult;
import fedlake.core.round.UpdateCheck;
import fedlake.core.round.UpdateFile;
import fedlake.core.round.UpdateScan;
import fedlake.core.round.UpdateScanner;
import fedlake.core.store.Store;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * Reads a round's update files in Spark partitions. Each task opens the store's file system with
 * the driver's Hadoop settings and runs {@link UpdateScan} on its files one at a time: one read per
 * file, checks, folds and statistics pools per cluster; the driver merges one partial result per
 * task. Memory per task is one update plus one fold per cluster, however many updates there are,
 * and the result does not depend on partitioning (the folds are exact).
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

  private static FileSystem fileSystem(List<UpdateFile> files, Map<String, String> settings) {
    return Store.fileSystem(files.get(0).uri(), Store.configuration(settings));
  }

  @Override
  public List<UpdateCheck> facts(List<UpdateFile> files, RoundRules rules) {
    if (files.isEmpty()) {
      return List.of();
    }
    Broadcast<Map<String, String>> settings = hadoopSettings();
    Broadcast<RoundRules> shared = context.broadcast(rules);
    return context
        .parallelize(new ArrayList<>(files), slices(files.size()))
        .mapPartitions(
            (Iterator<UpdateFile> part) -> {
              List<UpdateFile> mine = new ArrayList<>();
              part.forEachRemaining(mine::add);
              List<UpdateCheck> checks = new ArrayList<>();
              if (!mine.isEmpty()) {
                UpdateScan scan =
                    new UpdateScan(fileSystem(mine, settings.value()), shared.value());
                mine.forEach(file -> checks.add(scan.facts(file)));
              }
              return checks.iterator();
            })
        .collect();
  }

  @Override
  public ScanResult scan(List<UpdateFile> files, RoundRules rules) {
    if (files.isEmpty()) {
      return new ScanResult();
    }
    Broadcast<Map<String, String>> settings = hadoopSettings();
    Broadcast<RoundRules> shared = context.broadcast(rules);
    List<ScanResult> parts =
        context
            .parallelize(new ArrayList<>(files), slices(files.size()))
            .mapPartitions(
                (Iterator<UpdateFile> part) -> {
                  List<UpdateFile> mine = new ArrayList<>();
                  part.forEachRemaining(mine::add);
                  ScanResult result = new ScanResult();
                  if (!mine.isEmpty()) {
                    UpdateScan scan =
                        new UpdateScan(fileSystem(mine, settings.value()), shared.value());
                    mine.forEach(file -> scan.scan(file, result));
                  }
                  return List.of(result).iterator();
                })
            .collect();
    ScanResult merged = new ScanResult();
    parts.forEach(merged::merge);
    return merged;
  }
}
