package fedlake.core.round;

import java.io.Serializable;

/**
 * What a site that trained without labels reports about its pseudo-labels, where it holds labels it
 * did not train on (docs/unlabeled.md); each null when it does not.
 *
 * @param pseudoLabelAccuracy accuracy of the pseudo-labels of the rows that trained
 * @param auditAccuracy the trained model's accuracy on the site's labelled rows
 * @param auditZeroShotAccuracy the zero-shot head's accuracy on the same rows
 */
public record LabelAudit(
    Double pseudoLabelAccuracy, Double auditAccuracy, Double auditZeroShotAccuracy)
    implements Serializable {
  public static final LabelAudit NONE = new LabelAudit(null, null, null);

  /** Whether the site's pseudo-labels pulled its model below the zero-shot head on its rows. */
  public boolean belowZeroShot() {
    return auditAccuracy != null
        && auditZeroShotAccuracy != null
        && auditAccuracy < auditZeroShotAccuracy;
  }
}
