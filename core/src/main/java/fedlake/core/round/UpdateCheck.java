package fedlake.core.round;

import java.io.Serializable;

/**
 * What the round job learnt about one update file: the facts it needs for the audit and history,
 * and {@code reason} when the file is rejected (null when it passed every check).
 */
public record UpdateCheck(
    String file,
    long fileBytes,
    String site,
    String updateId,
    Integer cluster,
    long createdTime,
    long numExamples,
    double localLoss,
    double localAccuracy,
    Double updateNorm,
    String reason) implements Serializable {

  public static UpdateCheck unreadable(String file, long fileBytes, String reason) {
    return new UpdateCheck(file, fileBytes, null, null, null, 0, 0, Double.NaN, Double.NaN, null, reason);
  }

  public boolean accepted() {
    return reason == null;
  }

  /** The same facts, aggregated into {@code target} (the site's cluster assignment). */
  public UpdateCheck withCluster(int target) {
    return new UpdateCheck(file, fileBytes, site, updateId, target, createdTime, numExamples, localLoss, localAccuracy, updateNorm, reason);
  }

  public UpdateCheck reject(String why) {
    return new UpdateCheck(file, fileBytes, site, updateId, cluster, createdTime, numExamples, localLoss, localAccuracy, updateNorm, why);
  }
}
