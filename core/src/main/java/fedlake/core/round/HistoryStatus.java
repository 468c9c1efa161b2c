package fedlake.core.round;

import java.util.Locale;

/**
 * The outcome of a round for one cluster ({@code RoundHistory.status}, in lower case with dashes).
 */
public enum HistoryStatus {
  /** A model for the next round was published. */
  PUBLISHED,
  /** Nothing was published: no valid update, or fewer than the spec's minimum number of sites. */
  NO_VALID_UPDATES;

  /** The value in history files: {@code published} or {@code no-valid-updates}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
