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

  private static Update read(String uri, Configuration conf) {
    List<Update> rows = ParquetFiles.read(new Path(uri), conf, Update.getClassSchema());
    if (rows.size() != 1) {
      throw new InvalidInputException(
          uri, "an update file holds exactly one update, found " + rows.size());
    }
    return rows.get(0);
  }
}
