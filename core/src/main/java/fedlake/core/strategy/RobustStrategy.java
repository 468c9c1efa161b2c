package fedlake.core.strategy;

import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import fedlake.schema.StateVector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A strategy wrapped in robust aggregation (Flower style: wrap, don't subclass): clipping of each
 * update's change, a cap on each update's weight, and a robust rule (median, trimmed mean, Krum,
 * Multi-Krum) in front of the wrapped strategy's server step. It keeps the wrapped strategy's name,
 * parameters and client; {@link Aggregate#outcomes()} tells the audit which updates were clipped,
 * trimmed or excluded.
 *
 * <p>How the wrapped strategy sees the round: under the mean and Krum rules, the surviving updates,
 * clipped and with capped weights; under median and trimmed mean, one update holding the robust
 * estimate (weight 1, the example-weighted mean of the local steps), so that server optimizers
 * apply their step to it.
 *
 * <p>Memory: fixed clipping under the mean streams (the wrapped fold's memory). Every other setting
 * needs the round's statistics (median norm, median weight) or all values of a coordinate, so its
 * fold keeps every update: K x P floats (twice that with SCAFFOLD control deltas).
 */
public final class RobustStrategy extends StrategyWrapper {
  private static final long serialVersionUID = 1L;
  private final RobustSettings robust;

  private RobustStrategy(Strategy inner, RobustSettings robust) {
    super(inner);
    this.robust = robust;
  }

  /** {@code inner} wrapped in {@code robust}; {@code inner} itself when robust is plain. */
  public static Strategy wrap(Strategy inner, RobustSettings robust) {
    if (robust == null || robust.none()) {
      return inner;
    }
    if (inner instanceof RobustStrategy wrapped) {
      return new RobustStrategy(wrapped.inner(), robust);
    }
    return new RobustStrategy(inner, robust);
  }

  public RobustSettings robust() {
    return robust;
  }

  @Override
  public String summary() {
    return inner().summary() + ", robust: " + robust.describe();
  }

  @Override
  public Fold newFold(Model base, StrategySettings settings) {
    if (robust.keepsUpdates()) {
      return new KeptUpdates();
    }
    return new Clipping(
        inner().newFold(base, settings), Models.parameters(base), robust.clipNorm());
  }

  @Override
  public Aggregate finish(Model base, Fold fold, StrategySettings settings) {
    if (fold instanceof Clipping clipping) {
      return inner().finish(base, clipping.inner, settings).withOutcomes(sorted(clipping.outcomes));
    }
    return finishKept(base, ((KeptUpdates) fold).updates(), settings);
  }

  private Aggregate finishKept(
      Model base, List<UpdateParameters> given, StrategySettings settings) {
    List<UpdateParameters> all = new ArrayList<>(given);
    all.sort(ORDER);
    float[] x = Models.parameters(base);
    List<UpdateOutcome> outcomes = new ArrayList<>();
    List<UpdateParameters> updates = all;
    if (robust.leavesOut()) {
      updates = leaveOut(all, base, x, outcomes);
      if (updates.isEmpty()) {
        // nothing is trusted (possible only under the direction rule): publish the base again,
        // with its control variate and server state
        Map<String, float[]> state = new TreeMap<>();
        for (StateVector v : base.getServerState()) {
          state.put(v.getName().toString(), FloatArrays.toArray(v.getValues()));
        }
        return new Aggregate(x.clone(), null, state, sorted(outcomes));
      }
    }
    int k = updates.size();
    double[] norms = new double[k];
    double[] examples = new double[k];
    for (int i = 0; i < k; i++) {
      norms[i] = RobustRules.changeNorm(updates.get(i).parameters(), x);
      examples[i] = updates.get(i).numExamples();
    }
    double bound = Double.POSITIVE_INFINITY;
    String boundText = "";
    if (robust.clipNorm() > 0) {
      bound = robust.clipNorm();
      boundText = "the bound " + format(bound);
    }
    if (robust.clipMedianMultiple() > 0) {
      double median = RobustRules.median(norms);
      double adaptive = robust.clipMedianMultiple() * median;
      if (adaptive < bound) {
        bound = adaptive;
        boundText = format(robust.clipMedianMultiple()) + " x the median norm " + format(median);
      }
    }
    long cap = Long.MAX_VALUE;
    String capText = "";
    if (robust.weightMedianMultiple() > 0) {
      double median = RobustRules.median(examples);
      cap = Math.max(1, (long) Math.floor(robust.weightMedianMultiple() * median));
      capText = format(robust.weightMedianMultiple()) + " x the median " + format(median);
    }
    List<UpdateParameters> clipped = new ArrayList<>(k);
    String[] notes = new String[k];
    boolean[] limited = new boolean[k];
    for (int i = 0; i < k; i++) {
      UpdateParameters u = updates.get(i);
      List<String> note = new ArrayList<>();
      float[] parameters = u.parameters();
      float[] controlDelta = u.controlDelta();
      if (norms[i] > bound) {
        double factor = bound / norms[i];
        parameters = RobustRules.scaleChange(parameters, x, factor);
        controlDelta = RobustRules.scale(controlDelta, factor);
        note.add(
            "change norm "
                + format(norms[i])
                + " clipped to "
                + boundText
                + " (scaled by "
                + format(factor)
                + ")");
        limited[i] = true;
      }
      long weight = u.numExamples();
      if (weight > cap) {
        note.add("numExamples " + weight + " capped at " + cap + " (" + capText + ")");
        weight = cap;
        limited[i] = true;
      }
      notes[i] = String.join("; ", note);
      clipped.add(new UpdateParameters(u.site(), weight, u.localSteps(), parameters, controlDelta));
    }
    UpdateOutcome.Action[] actions = new UpdateOutcome.Action[k];
    for (int i = 0; i < k; i++) {
      actions[i] = limited[i] ? UpdateOutcome.Action.CLIPPED : UpdateOutcome.Action.KEPT;
    }
    Aggregate aggregate;
    int f = robust.attackers(k);
    switch (robust.rule()) {
      case MEAN -> aggregate = innerOf(base, settings, clipped);
      case KRUM, MULTI_KRUM -> {
        float[][] rows = clipped.stream().map(UpdateParameters::parameters).toArray(float[][]::new);
        int neighbours = Math.max(1, k - f - 2);
        double[] scores = RobustRules.krumScores(RobustRules.squaredDistances(rows), neighbours);
        Integer[] order = RobustRules.byScore(scores);
        int keep = robust.rule() == RobustSettings.Rule.KRUM ? 1 : Math.max(1, k - f);
        boolean[] selected = new boolean[k];
        List<UpdateParameters> chosen = new ArrayList<>();
        for (int r = 0; r < keep; r++) {
          selected[order[r]] = true;
        }
        for (int i = 0; i < k; i++) {
          if (selected[i]) {
            chosen.add(clipped.get(i));
          }
        }
        double worstKept = scores[order[keep - 1]];
        for (int r = 0; r < k; r++) {
          int i = order[r];
          String score =
              String.format(
                  Locale.ROOT,
                  "%s score %s (squared distances to its %d nearest updates), rank %d of %d",
                  robust.rule().id(),
                  format(scores[i]),
                  Math.min(neighbours, k - 1),
                  r + 1,
                  k);
          if (!selected[i]) {
            actions[i] = UpdateOutcome.Action.EXCLUDED;
            score += "; kept the " + keep + " best (worst kept " + format(worstKept) + ")";
          }
          notes[i] = notes[i].isEmpty() ? score : notes[i] + "; " + score;
        }
        aggregate = innerOf(base, settings, chosen);
      }
      case MEDIAN, TRIMMED_MEAN -> {
        boolean median = robust.rule() == RobustSettings.Rule.MEDIAN;
        int trim = median ? Math.min(f, (k - 1) / 2) : f;
        float[][] rows = clipped.stream().map(UpdateParameters::parameters).toArray(float[][]::new);
        long[] dropped = new long[k];
        float[] parameters =
            median
                ? RobustRules.median(rows, trim, dropped)
                : RobustRules.trimmedMean(rows, trim, dropped);
        float[] controlDelta = new float[0];
        if (clipped.stream().anyMatch(u -> u.controlDelta().length > 0)) {
          float[][] deltas =
              clipped.stream()
                  .map(u -> u.controlDelta().length > 0 ? u.controlDelta() : new float[x.length])
                  .toArray(float[][]::new);
          long[] ignored = new long[k];
          controlDelta =
              median
                  ? RobustRules.median(deltas, trim, ignored)
                  : RobustRules.trimmedMean(deltas, trim, ignored);
        }
        long totalWeight = 0;
        long weightedSteps = 0;
        for (UpdateParameters u : clipped) {
          totalWeight += u.numExamples();
          weightedSteps += u.numExamples() * (long) u.localSteps();
        }
        int steps = (int) Math.round((double) weightedSteps / Math.max(1, totalWeight));
        double expected = 2.0 * trim / k;
        for (int i = 0; i < k && trim > 0; i++) {
          double share = (double) dropped[i] / Math.max(1, x.length);
          String text =
              String.format(
                  Locale.ROOT,
                  "%s: among the %d lowest or highest values in %.1f%% of coordinates (%.1f%% expected)",
                  robust.rule().id(),
                  trim,
                  100 * share,
                  100 * expected);
          if (share > (1 + expected) / 2 && actions[i] == UpdateOutcome.Action.KEPT) {
            actions[i] = UpdateOutcome.Action.TRIMMED;
          }
          notes[i] = notes[i].isEmpty() ? text : notes[i] + "; " + text;
        }
        aggregate =
            innerOf(
                base,
                settings,
                List.of(
                    new UpdateParameters(
                        robust.rule().id(), 1, Math.max(1, steps), parameters, controlDelta)));
      }
      default -> throw new IllegalStateException("no robust rule " + robust.rule());
    }
    for (int i = 0; i < k; i++) {
      if (actions[i] != UpdateOutcome.Action.KEPT || !notes[i].isEmpty()) {
        outcomes.add(new UpdateOutcome(updates.get(i).site(), actions[i], notes[i]));
      }
    }
    return aggregate.withOutcomes(sorted(outcomes));
  }

  /**
   * Step 0: the updates left after exclusion by norm (change norm above excludeMedianMultiple times
   * the median over all of the round's updates), by class rows (more than misdirectedCeiling of the
   * weight change in rows moving toward another class's row of the base) and by direction (cosine
   * of the change below directionFloor, with the reference direction of all of the round's changes,
   * refined once to the reference of the updates that first pass left); an outcome for each one
   * left out, naming every rule it failed.
   */
  private List<UpdateParameters> leaveOut(
      List<UpdateParameters> all, Model base, float[] x, List<UpdateOutcome> outcomes) {
    int n = all.size();
    double[] norms = new double[n];
    for (int i = 0; i < n; i++) {
      norms[i] = RobustRules.changeNorm(all.get(i).parameters(), x);
    }
    double[] misdirected = new double[n];
    if (robust.classRows()) {
      int dimension = base.getDimension();
      double[][] rows = RobustRules.unitCentredRows(x, base.getClassCount(), dimension);
      for (int i = 0; rows != null && i < n; i++) {
        misdirected[i] = RobustRules.misdirectedShare(all.get(i).parameters(), x, rows, dimension);
      }
    }
    double medianNorm = RobustRules.median(norms);
    boolean[] longer = new boolean[n];
    boolean[] flipped = new boolean[n];
    for (int i = 0; i < n; i++) {
      longer[i] =
          robust.excludeMedianMultiple() > 0
              && norms[i] > robust.excludeMedianMultiple() * medianNorm;
      flipped[i] = robust.classRows() && misdirected[i] > robust.misdirectedCeiling();
    }
    // the direction rule: cosines with the reference of all updates; then, if that leaves some
    // out, once more with the reference of the updates that no rule left out (so that the
    // attackers do not tilt the reference the honest updates are measured against)
    double[] cosines = null;
    boolean[] refinedFrom = null;
    String against = robust.directionReference().id() + " change";
    if (robust.direction()) {
      boolean[] everyone = new boolean[n];
      Arrays.fill(everyone, true);
      cosines = cosines(all, x, norms, everyone);
      double firstFloor =
          cosines == null ? robust.directionFloor() : floor(cosines, longer, flipped).value();
      boolean[] inliers = new boolean[n];
      int count = 0;
      for (int i = 0; i < n; i++) {
        inliers[i] = !longer[i] && !flipped[i] && cosines != null && cosines[i] >= firstFloor;
        count += inliers[i] ? 1 : 0;
      }
      if (cosines != null && count > 0 && count < n) {
        double[] refined = cosines(all, x, norms, inliers);
        if (refined != null) {
          cosines = refined;
          refinedFrom = inliers;
          against += " of the " + count + " updates a first pass left";
        }
      }
    }
    Floor floor = cosines == null ? null : floor(cosines, longer, flipped);
    List<UpdateParameters> kept = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<String> why = new ArrayList<>();
      if (longer[i]) {
        why.add(
            "change norm "
                + format(norms[i])
                + " above "
                + format(robust.excludeMedianMultiple())
                + " x the median norm "
                + format(medianNorm));
      }
      if (flipped[i]) {
        why.add(
            format(misdirected[i])
                + " of the weight change in class rows moving toward another class's row, above"
                + " the ceiling "
                + format(robust.misdirectedCeiling()));
      }
      if (floor != null && cosines[i] < floor.value()) {
        boolean self =
            refinedFrom != null
                && !refinedFrom[i]
                && robust.directionReference() == RobustSettings.Direction.UNIT_MEAN;
        why.add(
            "change at cosine "
                + format(cosines[i])
                + " to the "
                + (self ? against.replace(" of the ", " of itself and the ") : against)
                + ", below "
                + floor.text());
      }
      if (why.isEmpty()) {
        kept.add(all.get(i));
      } else {
        outcomes.add(
            new UpdateOutcome(
                all.get(i).site(),
                UpdateOutcome.Action.EXCLUDED,
                String.join("; ", why) + ": left out"));
      }
    }
    return kept;
  }

  /**
   * The direction rule's floor for one pass over the round's {@code cosines}: directionFloor, or,
   * with a MAD multiple K, the lower of it and the median cosine less K median absolute deviations,
   * so that only an outlier of the round is left out where the round's cosines scatter widely.
   * Median and deviation are over the updates no other rule left out (all, if none is left): an
   * attacker already left out by norm or class rows does not shift them.
   */
  private Floor floor(double[] cosines, boolean[] longer, boolean[] flipped) {
    double k = robust.directionMadMultiple();
    double fixed = robust.directionFloor();
    if (k == 0) {
      return new Floor(fixed, "the floor " + format(fixed));
    }
    double[] judged = new double[cosines.length];
    int m = 0;
    for (int i = 0; i < cosines.length; i++) {
      if (!longer[i] && !flipped[i]) {
        judged[m++] = cosines[i];
      }
    }
    judged = m == 0 ? cosines : Arrays.copyOf(judged, m);
    double median = RobustRules.median(judged);
    double[] deviations = new double[judged.length];
    for (int i = 0; i < judged.length; i++) {
      deviations[i] = Math.abs(judged[i] - median);
    }
    double deviation = RobustRules.median(deviations);
    double value = Math.min(fixed, median - k * deviation);
    return new Floor(
        value,
        format(value)
            + ", the lower of the floor "
            + format(fixed)
            + " and the round's median cosine "
            + format(median)
            + " less "
            + format(k)
            + " x its median deviation "
            + format(deviation));
  }

  /** The direction rule's floor of one pass, and how the reason names it. */
  private record Floor(double value, String text) {}

  /**
   * Every update's cosine with the reference direction of the updates marked in {@code from} (for
   * the unit mean, an update not marked is measured against the reference with its own unit added,
   * so that it is judged as the first pass judged everyone), or null when that reference is zero
   * (it points nowhere: nothing to compare with).
   */
  private double[] cosines(List<UpdateParameters> all, float[] x, double[] norms, boolean[] from) {
    List<float[]> rows = new ArrayList<>();
    List<Double> rowNorms = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if (from[i]) {
        rows.add(all.get(i).parameters());
        rowNorms.add(norms[i]);
      }
    }
    float[][] chosen = rows.toArray(new float[0][]);
    double[] reference =
        robust.directionReference() == RobustSettings.Direction.MEDIAN
            ? RobustRules.medianChange(chosen, x)
            : RobustRules.unitMeanChange(
                chosen, x, rowNorms.stream().mapToDouble(Double::doubleValue).toArray());
    double referenceNorm = RobustRules.norm(reference);
    if (referenceNorm == 0) {
      return null;
    }
    boolean unit = robust.directionReference() == RobustSettings.Direction.UNIT_MEAN;
    double[] cosines = new double[all.size()];
    for (int i = 0; i < cosines.length; i++) {
      double c = RobustRules.cosine(all.get(i).parameters(), x, reference, referenceNorm);
      if (unit && !from[i] && norms[i] > 0) {
        // against the reference with its own unit added, as every update of the first pass was:
        // with p = u_i . r, cos(u_i, r + u_i) = (p + 1) / sqrt(|r|^2 + 2 p + 1)
        // (0 when r + u_i is zero: it points nowhere)
        double p = c * referenceNorm;
        double length = Math.sqrt(Math.max(0, referenceNorm * referenceNorm + 2 * p + 1));
        c = length == 0 ? 0 : (p + 1) / length;
      }
      cosines[i] = c;
    }
    return cosines;
  }

  private Aggregate innerOf(Model base, StrategySettings settings, List<UpdateParameters> updates) {
    Fold fold = inner().newFold(base, settings);
    updates.forEach(fold::add);
    return inner().finish(base, fold, settings);
  }

  /** A fixed order for the round's updates: by site (unique in a round), then content. */
  private static final Comparator<UpdateParameters> ORDER =
      Comparator.comparing(UpdateParameters::site)
          .thenComparingLong(UpdateParameters::numExamples)
          .thenComparingInt(UpdateParameters::localSteps)
          .thenComparing(u -> u.parameters(), Arrays::compare)
          .thenComparing(u -> u.controlDelta(), Arrays::compare);

  private static List<UpdateOutcome> sorted(List<UpdateOutcome> outcomes) {
    List<UpdateOutcome> list = new ArrayList<>(outcomes);
    list.sort(Comparator.comparing(UpdateOutcome::site).thenComparing(UpdateOutcome::reason));
    return list;
  }

  static String format(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return String.valueOf((long) v);
    }
    return String.format(Locale.ROOT, "%.4g", v);
  }

  /** Fixed-bound clipping in front of a streaming fold: each update is clipped as it is added. */
  static final class Clipping implements Fold {
    private static final long serialVersionUID = 1L;
    private final Fold inner;
    private final float[] base;
    private final double bound;
    private final List<UpdateOutcome> outcomes = new ArrayList<>();

    Clipping(Fold inner, float[] base, double bound) {
      this.inner = inner;
      this.base = base;
      this.bound = bound;
    }

    @Override
    public void add(UpdateParameters update) {
      double norm = RobustRules.changeNorm(update.parameters(), base);
      if (norm <= bound) {
        inner.add(update);
        return;
      }
      double factor = bound / norm;
      inner.add(
          new UpdateParameters(
              update.site(),
              update.numExamples(),
              update.localSteps(),
              RobustRules.scaleChange(update.parameters(), base, factor),
              RobustRules.scale(update.controlDelta(), factor)));
      outcomes.add(
          new UpdateOutcome(
              update.site(),
              UpdateOutcome.Action.CLIPPED,
              "change norm "
                  + format(norm)
                  + " clipped to the bound "
                  + format(bound)
                  + " (scaled by "
                  + format(factor)
                  + ")"));
    }

    @Override
    public Fold merge(Fold other) {
      Clipping that = (Clipping) other;
      inner.merge(that.inner);
      outcomes.addAll(that.outcomes);
      return this;
    }

    @Override
    public int count() {
      return inner.count();
    }
  }
}
