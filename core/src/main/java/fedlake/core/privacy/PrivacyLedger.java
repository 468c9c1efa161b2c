package fedlake.core.privacy;

import fedlake.core.store.Store;
import fedlake.schema.RoundHistory;
import java.util.Locale;
import java.util.TreeMap;

/**
 * What central differential privacy has spent in a federation, read from its history: every round
 * that published under the mechanism left its noise multiplier and sampling rate in its history
 * rows, and the accountant composes them. A round whose publication would take ε (at the spec's δ)
 * beyond the budget is refused before anything is claimed or written.
 *
 * @param dp the mechanism in force
 * @param spent the composition of every earlier round published under the mechanism
 * @param rounds how many rounds that is
 */
public record PrivacyLedger(CentralDp dp, RdpAccountant spent, int rounds) {
  /**
   * The ledger of the rounds before {@code round}; refuses the round when publishing it would
   * exceed the budget.
   */
  public static PrivacyLedger open(Store store, int round, CentralDp dp) {
    TreeMap<Integer, RoundHistory> byRound = new TreeMap<>();
    for (RoundHistory row : store.readHistory()) {
      if (row.getRound() < round && row.getNoiseMultiplier() != null) {
        byRound.putIfAbsent(row.getRound(), row); // one row a cluster: a round counts once
      }
    }
    RdpAccountant spent = RdpAccountant.none();
    for (RoundHistory row : byRound.values()) {
      spent =
          spent.plus(
              RdpAccountant.sampledGaussian(row.getSampleFraction(), row.getNoiseMultiplier(), 1));
    }
    PrivacyLedger ledger = new PrivacyLedger(dp, spent, byRound.size());
    double next = ledger.after().epsilon(dp.delta()).epsilon();
    if (next > dp.epsilonBudget()) {
      throw new IllegalStateException(
          String.format(
              Locale.ROOT,
              "Round %d is refused: publishing it would bring epsilon to %.3f at delta %s, beyond"
                  + " the budget of %s (privacy.epsilonBudget); %d round(s) so far spent %.3f."
                  + " Nothing was published",
              round,
              next,
              dp.delta(),
              dp.epsilonBudget(),
              byRound.size(),
              byRound.isEmpty() ? 0.0 : spent.epsilon(dp.delta()).epsilon()));
    }
    return ledger;
  }

  /** The composition once this round is published. */
  public RdpAccountant after() {
    return spent.plus(dp.round());
  }

  /** Writes the round's mechanism and ε into a history row of a published round. */
  public void record(RoundHistory row) {
    if (row.getPublishedModelVersion() != null) {
      row.setNoiseMultiplier(dp.noiseMultiplier());
      row.setSampleFraction(dp.sampleFraction());
      row.setEpsilon(after().epsilon(dp.delta()).epsilon());
    } else if (rounds > 0) {
      row.setEpsilon(spent.epsilon(dp.delta()).epsilon());
    }
  }
}
