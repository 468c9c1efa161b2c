package fedlake.jobs.spark;

import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.core.synth.ClassPool;
import fedlake.core.synth.LocalStatisticsPooler;
import fedlake.core.synth.StatisticsPool;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

/**
 * Pools the class statistics of update files in Spark: tasks read the files, pool what their files
 * report per class, and partial pools of the same class are merged by key. The pools are exact
 * ({@link ClassPool}), so the result does not depend on partitioning.
 */
public final class SparkStatisticsPooler implements fedlake.core.synth.StatisticsPooler {
  private final JavaSparkContext context;

  public SparkStatisticsPooler(SparkSession spark) {
    this.context = JavaSparkContext.fromSparkContext(spark.sparkContext());
  }

  /**
   * Pooled statistics by class, left distributed (one pool a class) for jobs that sample in the
   * tasks.
   */
  public JavaPairRDD<Integer, ClassPool> pools(
      List<String> files, int classCount, int dimension, LongAccumulator contributions) {
    Broadcast<Map<String, String>> settings =
        context.broadcast(new HashMap<>(Store.settings(context.hadoopConfiguration())));
    int slices = Math.max(1, Math.min(files.size(), context.defaultParallelism() * 2));
    return context
        .parallelize(new ArrayList<>(files), slices)
        .mapPartitionsToPair(
            (Iterator<String> part) -> {
              UpdateReader reader = new UpdateReader(Store.configuration(settings.value()));
              StatisticsPool pool = new StatisticsPool(dimension);
              while (part.hasNext()) {
                String file = part.next();
                StatisticsPool one = new StatisticsPool(dimension);
                LocalStatisticsPooler.addUpdate(
                    one, file, reader.read(file), classCount, dimension);
                if (!one.isEmpty()) {
                  contributions.add(1);
                  pool.merge(one);
                }
              }
              List<Tuple2<Integer, ClassPool>> pairs = new ArrayList<>();
              pool.pools().forEach((c, p) -> pairs.add(new Tuple2<>(c, p)));
              return pairs.iterator();
            })
        .reduceByKey(ClassPool::merge);
  }

  @Override
  public StatisticsPool pool(List<String> files, int classCount, int dimension) {
    if (files.isEmpty()) {
      return new StatisticsPool(dimension);
    }
    LongAccumulator contributions = context.sc().longAccumulator("updates with statistics");
    Map<Integer, ClassPool> pooled =
        pools(files, classCount, dimension, contributions).collectAsMap();
    return StatisticsPool.of(dimension, pooled.values(), contributions.value().intValue());
  }
}
