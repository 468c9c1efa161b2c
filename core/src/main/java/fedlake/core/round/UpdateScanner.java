package fedlake.core.round;

import fedlake.core.aggregate.Strategy;
import java.util.List;
import java.util.Map;

/**
 * Reads a round's update files: checks each one, then folds the accepted ones into per-cluster
 * accumulators. {@link LocalScanner} does it in this JVM; the Spark job does it in partitions.
 */
public interface UpdateScanner {
  /** One check per file, in any order. */
  List<UpdateCheck> check(List<UpdateFile> files, UpdateValidator validator);

  /** Per-cluster accumulators of the given accepted files (cluster taken from each file's check). */
  Map<Integer, Strategy.Accumulator> aggregate(List<UpdateCheck> accepted, UpdateValidator validator, Strategy strategy);
}
