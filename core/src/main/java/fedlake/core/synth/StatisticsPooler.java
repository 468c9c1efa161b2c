package fedlake.core.synth;

import java.util.List;

/**
 * Reads the class statistics carried by update files and pools them. {@link LocalStatisticsPooler}
 * reads the files one after another in this JVM; the Spark jobs read them in partitions and merge
 * the partial pools (exact, so the result is the same).
 */
public interface StatisticsPooler {
  /**
   * Pools the {@code classStatistics} of the updates in {@code files} (updates without any are
   * skipped). A file whose statistics do not fit {@code classCount} classes of {@code dimension}
   * raises {@link fedlake.core.InvalidInputException} naming it.
   */
  StatisticsPool pool(List<String> files, int classCount, int dimension);
}
