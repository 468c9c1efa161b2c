package fedlake.core.privacy;

import fedlake.core.store.Store;
import fedlake.schema.RoundHistory;
import java.util.Locale;
import java.util.TreeMap;

/**
 * What central differential privacy has spent in a federation, read from its history: every round
 * that published under the mechanism left its noise multiplier and sampling rate in its history
 * rows, and the accountants compose them (RDP, and PLD while every round ran the same q and z). A
 * round whose publication would take ε (at the spec's δ) beyond the budget is refused before
 * anything is claimed or written.
 *
 * @param dp the mechanism in force
 * @param spent the composition of every earlier round published under the mechanism
 * @param rounds how many rounds that is
 * @param uniform whether all of them ran the mechanism's q and z (then PLD applies)
 * @param epsilonAfter ε once this round is published
 */
public record PrivacyLedger(
    CentralDp dp, RdpAccountant spent, int rounds, boolean uniform, double epsilonAfter) {
  /**
   * ε at {@code delta} of {@code rounds} rounds of one mechanism: the smaller of the RDP
   * accountant's and the PLD accountant's (both are upper bounds; PLD is the tighter up to {@link
   * PldAccountant#MAX_ROUNDS} rounds).
   */
  public static double epsilon(double q, double z, int rounds, double delta) {
    return epsilon(RdpAccountant.sampledGaussian(q, z, rounds), true, q, z, rounds, delta);
  }

  private static double epsilon(
      RdpAccountant rdp, boolean uniform, double q, double z, int rounds, double delta) {
    double epsilon = rdp.epsilon(delta).epsilon();
    if (uniform && rounds >= 1 && rounds <= PldAccountant.MAX_ROUNDS) {
      epsilon = Math.min(epsilon, PldAccountant.epsilon(q, z, rounds, delta));
    }
    return epsilon;
  }

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
    boolean uniform = true; // every round so far ran this mechanism's q and z: PLD applies
    for (RoundHistory row : byRound.values()) {
      spent =
          spent.plus(
              RdpAccountant.sampledGaussian(row.getSampleFraction(), row.getNoiseMultiplier(), 1));
      uniform &=
          row.getSampleFraction() == dp.sampleFraction()
              && row.getNoiseMultiplier() == dp.noiseMultiplier();
    }
    double next =
        epsilon(
            spent.plus(dp.round()),
            uniform,
            dp.sampleFraction(),
            dp.noiseMultiplier(),
            byRound.size() + 1,
            dp.delta());
    PrivacyLedger ledger = new PrivacyLedger(dp, spent, byRound.size(), uniform, next);
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
              byRound.isEmpty() ? 0.0 : ledger.epsilonSpent()));
    }
    return ledger;
  }

  /** ε of the rounds before this one. */
  public double epsilonSpent() {
    return epsilon(spent, uniform, dp.sampleFraction(), dp.noiseMultiplier(), rounds, dp.delta());
  }

  /** Writes the round's mechanism and ε into a history row of a published round. */
  public void record(RoundHistory row) {
    if (row.getPublishedModelVersion() != null) {
      row.setNoiseMultiplier(dp.noiseMultiplier());
      row.setSampleFraction(dp.sampleFraction());
      row.setEpsilon(epsilonAfter);
    } else if (rounds > 0) {
      row.setEpsilon(epsilonSpent());
    }
  }
}
