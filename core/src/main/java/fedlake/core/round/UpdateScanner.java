package fedlake.core.round;

import java.util.List;

/**
 * Reads a round's update files: {@link LocalScanner} in this JVM, the Spark job in partitions. Both
 * run {@link UpdateScan} on every file; results do not depend on the order or the split.
 */
public interface UpdateScanner {
  /** The facts of each file, without decoding parameters (one check per file, any order). */
  List<UpdateCheck> facts(List<UpdateFile> files, RoundRules rules);

  /** Checks every file in one read and folds the accepted ones. */
  ScanResult scan(List<UpdateFile> files, RoundRules rules);
}
