package fedlake.core.round;

import fedlake.schema.Model;

/**
 * An optional step of the round job between aggregation and publishing: adjusts one cluster's
 * aggregated parameters, for example re-fitting the head on virtual features sampled from pooled
 * site statistics (CCVR, {@code fedlake.core.synth.Ccvr}). What it did goes into the round history.
 */
public interface Calibrator {
  /**
   * @param base the cluster's model of this round
   * @param parameters the aggregated parameters, laid out as {@code Models.parameters(base)}; not
   *     modified
   * @param statistics the class statistics the cluster's accepted sites contribute this round: sent
   *     with their updates (pooled in the round's scan) or held by the store under the fingerprint
   *     the update claims; empty when there are none
   */
  Outcome calibrate(int round, Model base, float[] parameters, CalibrationStatistics statistics);

  /**
   * @param parameters what to publish (the input when nothing ran)
   * @param calibrated whether the parameters were re-fitted
   * @param probeBefore probe-set accuracy of the aggregated parameters, or null without a probe set
   * @param probeAfter probe-set accuracy of what is published, or null without a probe set
   * @param message what ran (classes, samples) or why nothing did
   */
  record Outcome(
      float[] parameters,
      boolean calibrated,
      Double probeBefore,
      Double probeAfter,
      String message) {}
}
