package fedlake.core.round;

import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;

/** Scans update files one after another in this JVM (tests, small federations). */
public final class LocalScanner implements UpdateScanner {
  private final FileSystem fs;

  public LocalScanner(FileSystem fs) {
    this.fs = fs;
  }

  @Override
  public List<UpdateCheck> facts(List<UpdateFile> files, RoundRules rules) {
    UpdateScan scan = new UpdateScan(fs, rules);
    List<UpdateCheck> checks = new ArrayList<>();
    for (UpdateFile file : files) {
      checks.add(scan.facts(file));
    }
    return checks;
  }

  @Override
  public ScanResult scan(List<UpdateFile> files, RoundRules rules) {
    UpdateScan scan = new UpdateScan(fs, rules);
    ScanResult result = new ScanResult();
    for (UpdateFile file : files) {
      scan.scan(file, result);
    }
    return result;
  }
}
