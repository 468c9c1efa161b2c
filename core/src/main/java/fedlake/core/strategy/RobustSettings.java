package fedlake.core.strategy;

import fedlake.schema.FederationSpec;
import fedlake.schema.RobustnessSpec;
import java.io.Serializable;
import java.util.Locale;

/**
 * How a round defends against valid but hostile updates (the spec's {@code robustness} fields):
 * which rule combines the accepted updates, the share of them it assumes hostile, and the bounds on
 * one update's change norm and weight. {@link #NONE} is plain aggregation by the strategy.
 *
 * @param rule how the updates are combined before the strategy's server step
 * @param attackerFraction share f of the K updates assumed hostile, in [0, 0.5)
 * @param clipNorm fixed bound on an update's change norm {@code ||y - x||}; 0 for none
 * @param clipMedianMultiple bound as a multiple of the round's median change norm; 0 for none
 * @param weightMedianMultiple cap on numExamples as a multiple of the round's median; 0 for none
 * @param excludeMedianMultiple leave out updates whose change norm is above this multiple of the
 *     round's median; 0 for none
 * @param directionFloor leave out updates whose change has a cosine below this with the round's
 *     reference direction, in [-1, 1); -1 for none (no cosine is below -1)
 * @param directionReference the reference direction of the direction rule
 * @param misdirectedCeiling leave out updates with more than this share of their weight change in
 *     class rows that move toward another class's row of the base (flipped labels), in [0, 1]; 0
 *     for none
 * @param directionMadMultiple with the direction rule: leave an update out only if its cosine is
 *     also more than this many median absolute deviations below the median of the round's cosines
 *     (an outlier of its round, not just below the floor); 0 for none: the floor alone
 */
public record RobustSettings(
    Rule rule,
    double attackerFraction,
    double clipNorm,
    double clipMedianMultiple,
    double weightMedianMultiple,
    double excludeMedianMultiple,
    double directionFloor,
    Direction directionReference,
    double misdirectedCeiling,
    double directionMadMultiple)
    implements Serializable {

  /** Plain aggregation: the strategy's own weighted mean, no clipping, no cap. */
  public static final RobustSettings NONE =
      new RobustSettings(Rule.MEAN, 0.2, 0, 0, 0, 0, -1, Direction.UNIT_MEAN, 0, 0);

  /** The robust rules; {@link #id()} is the name in specs and on the command line. */
  public enum Rule {
    /** The strategy's weighted mean (after clipping and weight caps). */
    MEAN,
    /** Coordinate-wise median (Yin et al. 2018), unweighted. */
    MEDIAN,
    /** Coordinate-wise mean after dropping floor(f K) values at each end (Yin et al. 2018). */
    TRIMMED_MEAN,
    /** The one update closest to its K - f - 2 nearest neighbours (Blanchard et al. 2017). */
    KRUM,
    /** The weighted mean of the K - f updates with the best Krum scores. */
    MULTI_KRUM;

    public String id() {
      return RobustSettings.id(this);
    }

    /** The rule named {@code id}; an unknown name raises an error listing the known ones. */
    public static Rule of(String id) {
      return byId(Rule.class, id, "robust aggregation");
    }
  }

  /** What the direction rule compares each update's change with. */
  public enum Direction {
    /**
     * The sum of the round's changes, each scaled to length 1: every update moves it by at most one
     * unit, whatever its norm or weight.
     */
    UNIT_MEAN,
    /** The coordinate-wise median of the round's changes. */
    MEDIAN;

    public String id() {
      return RobustSettings.id(this);
    }

    /** The reference named {@code id}; an unknown name raises an error listing the known ones. */
    public static Direction of(String id) {
      return byId(Direction.class, id, "direction-reference");
    }
  }

  /** The name of a symbol in specs and on the command line: lower case, '-' for '_'. */
  private static String id(Enum<?> symbol) {
    return symbol.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private static <E extends Enum<E>> E byId(Class<E> type, String id, String what) {
    StringBuilder known = new StringBuilder();
    for (E e : type.getEnumConstants()) {
      if (id(e).equals(id)) {
        return e;
      }
      known.append(known.length() == 0 ? "" : ", ").append(id(e));
    }
    throw new IllegalArgumentException("unknown " + what + " '" + id + "' (known: " + known + ")");
  }

  public RobustSettings {
    if (rule == null) {
      throw new IllegalArgumentException("robust aggregation rule must be given");
    }
    if (directionReference == null) {
      throw new IllegalArgumentException("direction reference must be given");
    }
    if (!(attackerFraction >= 0 && attackerFraction < 0.5)) {
      throw new IllegalArgumentException(
          "attacker-fraction must be in [0, 0.5), got " + attackerFraction);
    }
    check("clip-norm", clipNorm);
    check("clip-median-multiple", clipMedianMultiple);
    check("weight-median-multiple", weightMedianMultiple);
    check("exclude-median-multiple", excludeMedianMultiple);
    if (excludeMedianMultiple > 0 && excludeMedianMultiple < 1) {
      throw new IllegalArgumentException(
          "exclude-median-multiple must be 0 (off) or at least 1 (it must keep the median), got "
              + excludeMedianMultiple);
    }
    if (!(directionFloor >= -1 && directionFloor < 1)) {
      throw new IllegalArgumentException(
          "direction-floor must be in [-1, 1) (-1: off), got " + directionFloor);
    }
    if (!(misdirectedCeiling >= 0 && misdirectedCeiling <= 1)) {
      throw new IllegalArgumentException(
          "misdirected-ceiling must be in [0, 1] (0: off), got " + misdirectedCeiling);
    }
    check("direction-mad-multiple", directionMadMultiple);
  }

  /** The same settings without the direction rule (for callers that set the first six). */
  public RobustSettings(
      Rule rule,
      double attackerFraction,
      double clipNorm,
      double clipMedianMultiple,
      double weightMedianMultiple,
      double excludeMedianMultiple) {
    this(
        rule,
        attackerFraction,
        clipNorm,
        clipMedianMultiple,
        weightMedianMultiple,
        excludeMedianMultiple,
        -1,
        Direction.UNIT_MEAN,
        0,
        0);
  }

  /** The same settings with the direction rule against the unit mean. */
  public RobustSettings(
      Rule rule,
      double attackerFraction,
      double clipNorm,
      double clipMedianMultiple,
      double weightMedianMultiple,
      double excludeMedianMultiple,
      double directionFloor) {
    this(
        rule,
        attackerFraction,
        clipNorm,
        clipMedianMultiple,
        weightMedianMultiple,
        excludeMedianMultiple,
        directionFloor,
        Direction.UNIT_MEAN,
        0,
        0);
  }

  /** The same settings without norm-based exclusion (for callers that set the first five). */
  public RobustSettings(
      Rule rule,
      double attackerFraction,
      double clipNorm,
      double clipMedianMultiple,
      double weightMedianMultiple) {
    this(
        rule,
        attackerFraction,
        clipNorm,
        clipMedianMultiple,
        weightMedianMultiple,
        0,
        -1,
        Direction.UNIT_MEAN,
        0,
        0);
  }

  private static void check(String name, double value) {
    if (!(value >= 0) || !Double.isFinite(value)) {
      throw new IllegalArgumentException(name + " must be >= 0 (0: off), got " + value);
    }
  }

  /** The settings a spec's robustness record asks for. */
  public static RobustSettings of(RobustnessSpec spec) {
    return new RobustSettings(
        Rule.of(spec.getAggregation().toString()),
        spec.getAttackerFraction(),
        spec.getClipNorm(),
        spec.getClipMedianMultiple(),
        spec.getWeightMedianMultiple(),
        spec.getExcludeMedianMultiple(),
        spec.getDirectionFloor(),
        Direction.of(spec.getDirectionReference()),
        spec.getMisdirectedCeiling(),
        spec.getDirectionMadMultiple());
  }

  /** Whether this is plain aggregation (nothing to wrap). */
  public boolean none() {
    return rule == Rule.MEAN
        && clipNorm == 0
        && clipMedianMultiple == 0
        && weightMedianMultiple == 0
        && excludeMedianMultiple == 0
        && !direction()
        && !classRows();
  }

  /**
   * Whether the fold must keep every update until the round's statistics are known: every rule but
   * the mean, adaptive clipping, weight caps, exclusion by norm, by direction and by class rows.
   * Only fixed clipping under the mean streams.
   */
  public boolean keepsUpdates() {
    return rule != Rule.MEAN || clipMedianMultiple > 0 || weightMedianMultiple > 0 || leavesOut();
  }

  /** Whether a rule leaves whole updates out before the rest: by norm, direction or class rows. */
  public boolean leavesOut() {
    return excludeMedianMultiple > 0 || direction() || classRows();
  }

  /**
   * A caution for {@code spec}'s robustness under its strategy, or null: SCAFFOLD's control-variate
   * correction moves every class row of a site's change, so the class-row rule sees flipped labels
   * far less clearly there (docs/robustness.md).
   */
  public static String caution(FederationSpec spec) {
    if (of(spec.getRobustness()).classRows()
        && Scaffold.NAME.equals(spec.getStrategy().getName())) {
      return "under scaffold the class-row rule (misdirectedCeiling) catches only about half of the"
          + " label-flipped updates and leaves out some honest ones; docs/robustness.md recommends it"
          + " with fedavgm";
    }
    return null;
  }

  /** Whether the class-row rule is on: a misdirected ceiling above 0. */
  public boolean classRows() {
    return misdirectedCeiling > 0;
  }

  /** Whether the direction rule is on: a floor above -1 on the cosine with the median change. */
  public boolean direction() {
    return directionFloor > -1;
  }

  /** Hostile updates assumed among {@code k}: floor(f k). */
  public int attackers(int k) {
    return (int) Math.floor(attackerFraction * k + 1e-9);
  }

  /** One line for history messages and logs, such as {@code trimmed-mean f=0.2, clip 2x median}. */
  public String describe() {
    StringBuilder text = new StringBuilder(rule.id());
    if (rule != Rule.MEAN && rule != Rule.MEDIAN) {
      text.append(" f=").append(attackerFraction);
    }
    if (clipNorm > 0) {
      text.append(", clip ").append(clipNorm);
    }
    if (clipMedianMultiple > 0) {
      text.append(", clip ").append(clipMedianMultiple).append("x median norm");
    }
    if (excludeMedianMultiple > 0) {
      text.append(", exclude above ").append(excludeMedianMultiple).append("x median norm");
    }
    if (direction()) {
      text.append(", exclude below cosine ")
          .append(directionFloor)
          .append(" to the ")
          .append(directionReference.id())
          .append(" direction");
      if (directionMadMultiple > 0) {
        text.append(" and ")
            .append(directionMadMultiple)
            .append(" median deviations below the round's median cosine");
      }
    }
    if (classRows()) {
      text.append(", exclude above ")
          .append(misdirectedCeiling)
          .append(" of the change in misdirected class rows");
    }
    if (weightMedianMultiple > 0) {
      text.append(", weight cap ").append(weightMedianMultiple).append("x median");
    }
    return text.toString();
  }
}
