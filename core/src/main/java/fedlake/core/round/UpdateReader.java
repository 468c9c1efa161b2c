package fedlake.core.round;

import fedlake.core.InvalidInputException;
import fedlake.core.aggregate.Strategy;
import fedlake.core.model.Models;
import fedlake.core.store.ParquetFiles;
import fedlake.schema.Update;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * The per-file work of a round, shared by every {@link UpdateScanner}: read one update, check it,
 * fold it in. Memory is one update at a time plus one accumulator per cluster.
 */
public final class UpdateReader {
  private final Configuration conf;

  public UpdateReader(Configuration conf) {
    this.conf = conf;
  }

  public Update read(String uri) {
    return read(uri, conf);
  }

  /**
   * Reads an update without its {@code classStatistics} (left null): the parameters only, for
   * aggregation. The statistics can be as large as the rest of the file many times over.
   */
  public Update readParameters(String uri) {
    Configuration projected = new Configuration(conf);
    // the projection is converted to Parquet column paths; files use the standard three-level lists
    projected.setBoolean(org.apache.parquet.avro.AvroWriteSupport.WRITE_OLD_LIST_STRUCTURE, false);
    org.apache.parquet.avro.AvroReadSupport.setRequestedProjection(projected, WITHOUT_STATISTICS);
    return read(uri, projected);
  }

  private static final org.apache.avro.Schema WITHOUT_STATISTICS = withoutStatistics();

  private static org.apache.avro.Schema withoutStatistics() {
    org.apache.avro.Schema full = Update.getClassSchema();
    List<org.apache.avro.Schema.Field> fields = full.getFields().stream()
        .filter(f -> !f.name().equals("classStatistics"))
        .map(f -> new org.apache.avro.Schema.Field(f, f.schema()))
        .toList();
    return org.apache.avro.Schema.createRecord(full.getName(), full.getDoc(), full.getNamespace(), false, fields);
  }

  private static Update read(String uri, Configuration conf) {
    List<Update> rows = ParquetFiles.read(new Path(uri), conf, Update.getClassSchema());
    if (rows.size() != 1) {
      throw new InvalidInputException(uri, "an update file holds exactly one update, found " + rows.size());
    }
    return rows.get(0);
  }

  public UpdateCheck check(UpdateFile file, UpdateValidator validator) {
    Update update;
    try {
      update = read(file.uri());
    } catch (InvalidInputException e) {
      return UpdateCheck.unreadable(file.uri(), file.bytes(), e.reason());
    } catch (RuntimeException e) {
      return UpdateCheck.unreadable(file.uri(), file.bytes(), "cannot read: " + e);
    }
    return validator.check(file.uri(), file.bytes(), update);
  }

  /** Folds {@code accepted} into {@code accumulators} (created on demand per cluster). */
  public void aggregate(Iterable<UpdateCheck> accepted, UpdateValidator validator, Strategy strategy,
      Map<Integer, Strategy.Accumulator> accumulators) {
    for (UpdateCheck check : accepted) {
      Update update = readParameters(check.file());
      UpdateCheck again = validator.check(check.file(), check.fileBytes(), update);
      if (!again.accepted()) { // the file changed after it was checked
        throw new IllegalStateException("Update " + check.file() + " changed during the round: " + again.reason());
      }
      // the check's cluster is the update's own, or its site's assigned cluster (see ClusterPlan)
      int target = check.cluster() != null ? check.cluster() : update.getCluster();
      accumulators.computeIfAbsent(target, c -> strategy.newAccumulator(validator.aggregationBase(c)))
          .add(update, Models.parameters(update));
    }
  }

  public static Map<Integer, Strategy.Accumulator> merge(Map<Integer, Strategy.Accumulator> a, Map<Integer, Strategy.Accumulator> b) {
    Map<Integer, Strategy.Accumulator> merged = new HashMap<>(a);
    b.forEach((cluster, acc) -> merged.merge(cluster, acc, Strategy.Accumulator::merge));
    return merged;
  }
}
