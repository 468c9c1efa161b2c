package fedlake.core.round;

import fedlake.core.model.FloatArrays;
import fedlake.schema.Update;
import java.io.Serializable;

/**
 * The scalar facts of one update (everything but its parameters and statistics): what the round job
 * checks before it decodes a single parameter.
 */
public record UpdateFacts(
    String updateId,
    String site,
    int round,
    int cluster,
    String baseModelVersion,
    String kind,
    int dimension,
    int classCount,
    long numExamples,
    int localEpochs,
    int localSteps,
    double localLoss,
    double localAccuracy,
    long[] labelHistogram,
    int specVersion,
    long createdTime,
    Double holdoutAccuracy,
    String keyId,
    String signature,
    String encoding,
    SiteCost cost,
    LabelAudit labelAudit)
    implements Serializable {

  /** The facts of an update record (tests, tools that hold records). */
  public static UpdateFacts of(Update u) {
    return new UpdateFacts(
        u.getUpdateId(),
        u.getSite(),
        u.getRound(),
        u.getCluster(),
        u.getBaseModelVersion(),
        u.getKind(),
        u.getDimension(),
        u.getClassCount(),
        u.getNumExamples(),
        u.getLocalEpochs(),
        u.getLocalSteps(),
        u.getLocalLoss(),
        u.getLocalAccuracy(),
        FloatArrays.toLongArray(u.getLabelHistogram()),
        u.getSpecVersion(),
        u.getCreatedTime() == null ? 0 : u.getCreatedTime().toEpochMilli(),
        u.getHoldoutAccuracy(),
        u.getKeyId(),
        u.getSignature(),
        u.getEncoding(),
        new SiteCost(u.getDownloadBytes(), u.getTrainCpuMillis(), u.getPeakMemoryBytes()),
        new LabelAudit(
            u.getPseudoLabelAccuracy(), u.getAuditAccuracy(), u.getAuditZeroShotAccuracy()));
  }

  /** A check that carries these facts, accepted (reason null) or rejected. */
  UpdateCheck check(String file, long fileBytes, Double updateNorm, String reason) {
    return new UpdateCheck(
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
        holdoutAccuracy,
        encoding,
        cost,
        labelAudit);
  }
}
