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
    String reason,
    String statisticsFingerprint,
    boolean statisticsSent,
    int staleness,
    Double holdoutAccuracy,
    String encoding,
    SiteCost cost,
    LabelAudit labelAudit)
    implements Serializable {

  /**
   * @param staleness rounds the update is late by (0: trained from the model of the round
   *     aggregated; above 0 only for late updates of a buffered round policy)
   * @param statisticsFingerprint fingerprint of the site's class statistics: computed by the round
   *     job when the update carries them, else the one the update claims; null when the site did
   *     not opt in (or statistics were not read)
   * @param statisticsSent whether the update carried class statistics that the scan pooled
   * @param holdoutAccuracy the update's holdoutAccuracy (the received model on the site's held-out
   *     rows), null when it has none
   * @param encoding the encoding the update's parameters travelled in (null: fp32 or unread)
   * @param cost what the round cost the site, as the update reports it
   */
  public UpdateCheck(
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
      String reason) {
    this(
        file,
        fileBytes,
        site,
        updateId,
        cluster,
        createdTime,
        numExamples,
        localLoss,
        localAccuracy,
        updateNorm,
        reason,
        null,
        false,
        0,
        null,
        null,
        SiteCost.UNKNOWN,
        LabelAudit.NONE);
  }

  /**
   * A file that could not be read as an update: the site is the one its name gives ({@code
   * SITE--ID.parquet}, null for another form), so the audit still says whose upload failed.
   */
  public static UpdateCheck unreadable(String file, long fileBytes, String reason) {
    return new UpdateCheck(
        file,
        fileBytes,
        new UpdateFile(file, fileBytes).siteFromName(),
        null,
        null,
        0,
        0,
        Double.NaN,
        Double.NaN,
        null,
        reason);
  }

  public boolean accepted() {
    return reason == null;
  }

  /** The same facts, aggregated into {@code target} (the site's cluster assignment). */
  public UpdateCheck withCluster(int target) {
    return with(target, reason, statisticsFingerprint, statisticsSent, staleness);
  }

  /** The same facts with what the update said about its class statistics. */
  public UpdateCheck withStatistics(String fingerprint, boolean sent) {
    return with(cluster, reason, fingerprint, sent, staleness);
  }

  /** The same facts of an update {@code rounds} rounds late. */
  public UpdateCheck withStaleness(int rounds) {
    return with(cluster, reason, statisticsFingerprint, statisticsSent, rounds);
  }

  public UpdateCheck reject(String why) {
    return with(cluster, why, statisticsFingerprint, statisticsSent, staleness);
  }

  /** The same facts of the file with another outcome. */
  private UpdateCheck with(
      Integer toCluster, String why, String fingerprint, boolean sent, int rounds) {
    return new UpdateCheck(
        file,
        fileBytes,
        site,
        updateId,
        toCluster,
        createdTime,
        numExamples,
        localLoss,
        localAccuracy,
        updateNorm,
        why,
        fingerprint,
        sent,
        rounds,
        holdoutAccuracy,
        encoding,
        cost,
        labelAudit);
  }
}
