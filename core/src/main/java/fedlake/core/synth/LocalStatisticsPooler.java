package fedlake.core.synth;

import fedlake.core.InvalidInputException;
import fedlake.core.round.UpdateReader;
import fedlake.core.round.UpdateValidator;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Update;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/** Pools update files' class statistics one file at a time (memory: one update plus the pool). */
public final class LocalStatisticsPooler implements StatisticsPooler {
  private final Configuration conf;

  public LocalStatisticsPooler(Configuration conf) {
    this.conf = conf;
  }

  @Override
  public StatisticsPool pool(List<String> files, int classCount, int dimension) {
    StatisticsPool pool = new StatisticsPool(dimension);
    UpdateReader reader = new UpdateReader(conf);
    for (String file : files) {
      addUpdate(pool, file, reader.read(file), classCount, dimension);
    }
    return pool;
  }

  /** Checks one update's statistics and adds them to {@code pool}; shared with the Spark pooler. */
  public static void addUpdate(
      StatisticsPool pool, String file, Update update, int classCount, int dimension) {
    List<ClassStatistics> statistics = update.getClassStatistics();
    if (statistics == null || statistics.isEmpty()) {
      return;
    }
    String problem = UpdateValidator.statisticsProblem(statistics, classCount, dimension);
    if (problem != null) {
      throw new InvalidInputException(file, problem);
    }
    pool.add(statistics.stream().map(ClassMoments::fromAvro).toList());
  }
}
