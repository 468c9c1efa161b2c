package fedlake.core.round;

import fedlake.core.InvalidInputException;
import fedlake.core.store.ParquetFiles;
import fedlake.schema.Update;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Reads whole update records (Avro), for jobs that need every field of a few files. The round job
 * reads columns instead ({@link UpdateScan}).
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
    List<org.apache.avro.Schema.Field> fields =
        full.getFields().stream()
            .filter(f -> !f.name().equals("classStatistics"))
            .map(f -> new org.apache.avro.Schema.Field(f, f.schema()))
            .toList();
    return org.apache.avro.Schema.createRecord(
        full.getName(), full.getDoc(), full.getNamespace(), false, fields);
  }

  private static Update read(String uri, Configuration conf) {
    List<Update> rows = ParquetFiles.read(new Path(uri), conf, Update.getClassSchema());
    if (rows.size() != 1) {
      throw new InvalidInputException(
          uri, "an update file holds exactly one update, found " + rows.size());
    }
    return rows.get(0);
  }
}
