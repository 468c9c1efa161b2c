package fedlake.core.round;

import fedlake.core.aggregate.Strategy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/** Scans update files one after another in this JVM (tests, small federations). */
public final class LocalScanner implements UpdateScanner {
  private final UpdateReader reader;

  public LocalScanner(Configuration conf) {
    this.reader = new UpdateReader(conf);
  }

  @Override
  public List<UpdateCheck> check(List<UpdateFile> files, UpdateValidator validator) {
    List<UpdateCheck> checks = new ArrayList<>();
    for (UpdateFile file : files) {
      checks.add(reader.check(file, validator));
    }
    return checks;
  }

  @Override
  public Map<Integer, Strategy.Accumulator> aggregate(List<UpdateCheck> accepted, UpdateValidator validator, Strategy strategy) {
    Map<Integer, Strategy.Accumulator> accumulators = new HashMap<>();
    reader.aggregate(accepted, validator, strategy, accumulators);
    return accumulators;
  }
}
