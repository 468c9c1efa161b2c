package fedlake.core.strategy;

import static fedlake.core.strategy.StrategyTests.assertBits;
import static fedlake.core.strategy.StrategyTests.assertOrderAndPartitionFree;
import static fedlake.core.strategy.StrategyTests.base;
import static fedlake.core.strategy.StrategyTests.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.Fixtures;
import fedlake.core.strategy.RobustSettings.Rule;
import fedlake.schema.Model;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Robust aggregation around FedAvg on four-parameter models (w0, w1, b0, b1) from a zero base:
 * every expected number is worked out by hand in the comments, and every order and split of the
 * updates gives the same bits.
 */
class RobustStrategyTest {
  private static final Strategy FEDAVG = Strategies.named("fedavg");
  private final Model zero = base(0, 0, 0, 0);

  private static Strategy robust(Rule rule, double f, double clip, double clipMedian, double cap) {
    return RobustStrategy.wrap(FEDAVG, new RobustSettings(rule, f, clip, clipMedian, cap));
  }

  private Aggregate run(Strategy strategy, List<UpdateParameters> updates) {
    return assertOrderAndPartitionFree(
        strategy, zero, StrategySettings.of(strategy, Map.of()), updates);
  }

  private static Map<String, UpdateOutcome> bySite(Aggregate aggregate) {
    return aggregate.outcomes().stream().collect(Collectors.toMap(UpdateOutcome::site, o -> o));
  }

  @Test
  void plainSettingsLeaveTheStrategyUnwrapped() {
    assertSame(FEDAVG, RobustStrategy.wrap(FEDAVG, RobustSettings.NONE));
  }

  @Test
  void coordinateMedianOfThreeUpdates() {
    // a = (1, 2, 3, 4), b = (2, 0, 5, -1), c = (10, 1, 4, 0): per coordinate the middle value
    // w0 {1, 2, 10} -> 2; w1 {0, 1, 2} -> 1; b0 {3, 4, 5} -> 4; b1 {-1, 0, 4} -> 0
    Aggregate a =
        run(
            robust(Rule.MEDIAN, 0.34, 0, 0, 0),
            List.of(
                update("a", 5, 1, 2, 3, 4),
                update("b", 1, 2, 0, 5, -1),
                update("c", 7, 10, 1, 4, 0)));
    assertBits(Fixtures.floats(2, 1, 4, 0), a.parameters());
    // f = 0.34 of 3: one extreme at each end. a is the lowest of w0, the highest of w1 and b1,
    // the lowest of b0: extreme in 4 of 4 coordinates (2/3 expected), so it counts as trimmed
    UpdateOutcome first = bySite(a).get("a");
    assertEquals(UpdateOutcome.Action.TRIMMED, first.action());
    assertEquals(
        "median: among the 1 lowest or highest values in 100.0% of coordinates (66.7% expected)",
        first.reason());
  }

  @Test
  void coordinateMedianOfAnEvenCountAveragesTheMiddlePair() {
    // w0 {1, 2, 10, -6} -> (1 + 2) / 2; w1 {2, 0, 1, 3} -> (1 + 2) / 2; b0 {3, 5, 4, 3} -> (3 + 4)
    // / 2
    // b1 {4, -1, 0, 2} -> (0 + 2) / 2
    Aggregate a =
        run(
            robust(Rule.MEDIAN, 0, 0, 0, 0),
            List.of(
                update("a", 1, 1, 2, 3, 4),
                update("b", 1, 2, 0, 5, -1),
                update("c", 1, 10, 1, 4, 0),
                update("d", 1, -6, 3, 3, 2)));
    assertBits(Fixtures.floats(1.5, 1.5, 3.5, 1), a.parameters());
  }

  @Test
  void trimmedMeanDropsOneValueAtEachEnd() {
    // f = 0.25 of 4 updates: drop 1 lowest and 1 highest per coordinate, average the other two
    // w0 {1, 2, 10, -6} -> (1 + 2) / 2 = 1.5;  w1 {2, 0, 1, 3} -> (1 + 2) / 2 = 1.5
    // b0 {3, 5, 4, 3} -> sorted 3(a) 3(d) 4 5, drops a's 3 and 5 -> (3 + 4) / 2 = 3.5
    // b1 {4, -1, 0, 2} -> (0 + 2) / 2 = 1
    Aggregate a =
        run(
            robust(Rule.TRIMMED_MEAN, 0.25, 0, 0, 0),
            List.of(
                update("a", 1, 1, 2, 3, 4),
                update("b", 1, 2, 0, 5, -1),
                update("c", 1, 10, 1, 4, 0),
                update("d", 1, -6, 3, 3, 2)));
    assertBits(Fixtures.floats(1.5, 1.5, 3.5, 1), a.parameters());
    // a was dropped in b0 (tie broken by site order) and b1: 2 of 4 coordinates, 50% expected
    assertEquals(
        "trimmed-mean: among the 1 lowest or highest values in 50.0% of coordinates (50.0% expected)",
        bySite(a).get("a").reason());
    assertEquals(UpdateOutcome.Action.KEPT, bySite(a).get("a").action());
    // c = (10, 1, 4, 0) is dropped in w0 only (its 1 and 4 are middle values, 0 is too): 25%
    assertTrue(bySite(a).get("c").reason().contains("in 25.0% of coordinates"));
  }

  @Test
  void krumPicksTheUpdateClosestToItsNeighbours() {
    // squared distances: ab 1, ac 1, ad 200, bc 2, bd 181, cd 181; f = 0 -> 4 - 0 - 2 = 2
    // neighbours
    // scores: a 1 + 1 = 2, b 1 + 2 = 3, c 1 + 2 = 3, d 181 + 181 = 362 -> a
    List<UpdateParameters> updates =
        List.of(
            update("a", 1, 0, 0, 0, 0),
            update("b", 1, 1, 0, 0, 0),
            update("c", 2, 0, 1, 0, 0),
            update("d", 1, 10, 10, 0, 0));
    Aggregate a = run(robust(Rule.KRUM, 0, 0, 0, 0), updates);
    assertBits(Fixtures.floats(0, 0, 0, 0), a.parameters());
    Map<String, UpdateOutcome> outcomes = bySite(a);
    assertEquals(UpdateOutcome.Action.EXCLUDED, outcomes.get("d").action());
    assertEquals(
        "krum score 362 (squared distances to its 2 nearest updates), rank 4 of 4; kept the 1 best (worst kept 2)",
        outcomes.get("d").reason());
    assertEquals(UpdateOutcome.Action.KEPT, outcomes.get("a").action());
  }

  @Test
  void multiKrumAveragesTheBestKMinusF() {
    // f = 0.25 of 4 = 1: 4 - 1 - 2 = 1 neighbour; scores a 1, b 1, c 1, d 181; keep 3: a, b, c
    // weighted mean (weights 1, 1, 2): w0 = 1 / 4 = 0.25, w1 = 2 / 4 = 0.5
    Aggregate a =
        run(
            robust(Rule.MULTI_KRUM, 0.25, 0, 0, 0),
            List.of(
                update("a", 1, 0, 0, 0, 0),
                update("b", 1, 1, 0, 0, 0),
                update("c", 2, 0, 1, 0, 0),
                update("d", 1, 10, 10, 0, 0)));
    assertBits(Fixtures.floats(0.25, 0.5, 0, 0), a.parameters());
    assertEquals(UpdateOutcome.Action.EXCLUDED, bySite(a).get("d").action());
    assertEquals(
        1, a.outcomes().stream().filter(o -> o.action() == UpdateOutcome.Action.EXCLUDED).count());
  }

  @Test
  void adaptiveClippingScalesChangesAboveTheMedianNorm() {
    // norms: a (0, 8, 0, 0) 8, b (0, 0, 2, 0) 2, c (0, 0, 0, 4) 4 -> median 4; a scaled by 4 / 8
    // to (0, 4, 0, 0); weighted mean (1, 1, 2): (0, 4 / 4, 2 / 4, 8 / 4) = (0, 1, 0.5, 2)
    Aggregate a =
        run(
            robust(Rule.MEAN, 0.2, 0, 1, 0),
            List.of(
                update("a", 1, 0, 8, 0, 0),
                update("b", 1, 0, 0, 2, 0),
                update("c", 2, 0, 0, 0, 4)));
    assertBits(Fixtures.floats(0, 1, 0.5, 2), a.parameters());
    assertEquals(
        List.of(
            new UpdateOutcome(
                "a",
                UpdateOutcome.Action.CLIPPED,
                "change norm 8 clipped to 1 x the median norm 4 (scaled by 0.5000)")),
        a.outcomes());
  }

  @Test
  void updatesFarAboveTheMedianNormAreLeftOut() {
    // norms 8, 2, 4 -> median 4, limit 1.5 x 4 = 6: a is left out; mean of b (1) and c (3):
    // (0, 0, 2 / 4, 12 / 4) = (0, 0, 0.5, 3)
    Strategy strategy =
        RobustStrategy.wrap(FEDAVG, new RobustSettings(Rule.MEAN, 0.2, 0, 0, 0, 1.5));
    Aggregate a =
        run(
            strategy,
            List.of(
                update("a", 1, 0, 8, 0, 0),
                update("b", 1, 0, 0, 2, 0),
                update("c", 3, 0, 0, 0, 4)));
    assertBits(Fixtures.floats(0, 0, 0.5, 3), a.parameters());
    assertEquals(
        List.of(
            new UpdateOutcome(
                "a",
                UpdateOutcome.Action.EXCLUDED,
                "change norm 8 above 1.500 x the median norm 4: left out")),
        a.outcomes());
  }

  private static Strategy direction(double floor, double exclude, double clip, double cap) {
    return RobustStrategy.wrap(
        FEDAVG, new RobustSettings(Rule.MEAN, 0.2, 0, clip, cap, exclude, floor));
  }

  @Test
  void misdirectedShareCountsRowsMovingTowardAnotherClass() {
    // one input dimension, two classes: rows w0 = 1, w1 = -1, mean 0, so the unit centred rows are
    // +1 and -1; a row's change is nearest to the row of its sign
    float[] x = Fixtures.floats(1, -1, 0, 0);
    double[][] rows = RobustRules.unitCentredRows(x, 2, 1);
    // (+0.5, -0.5): each row grows along itself; (-0.5, +0.5): each toward the other class
    assertEquals(0, RobustRules.misdirectedShare(Fixtures.floats(1.5, -1.5, 0, 0), x, rows, 1));
    assertEquals(1, RobustRules.misdirectedShare(Fixtures.floats(0.5, -0.5, 9, 9), x, rows, 1));
    // (+0.3, +0.4): row 0 along itself (0.09), row 1 toward row 0 (0.16): 0.16 / 0.25 = 0.64
    assertEquals(
        0.64, RobustRules.misdirectedShare(Fixtures.floats(1.3, -0.6, 0, 0), x, rows, 1), 1e-6);
    // a zero base (round 0), or one whose rows are all equal, has no nearer row to compare with
    assertEquals(null, RobustRules.unitCentredRows(new float[4], 2, 1));
    assertEquals(null, RobustRules.unitCentredRows(Fixtures.floats(3, 3, 0, 0), 2, 1));
    // two dimensions: rows (2, 1) and (1, 2) both point along the shared (1, 1); centred on their
    // mean (1.5, 1.5) they are (0.5, -0.5) and (-0.5, 0.5). A change (0.2, 0.1) of row 0 is nearer
    // its own centred row (dot +0.0707 against -0.0707); (0.1, 0.2) is nearer row 1's, although
    // its plain cosine with row 0 (0.8) is positive
    float[] y = Fixtures.floats(2.2, 1.1, 1, 2, 0, 0);
    float[] x2 = Fixtures.floats(2, 1, 1, 2, 0, 0);
    double[][] rows2 = RobustRules.unitCentredRows(x2, 2, 2);
    assertEquals(0, RobustRules.misdirectedShare(y, x2, rows2, 2));
    assertEquals(
        1, RobustRules.misdirectedShare(Fixtures.floats(2.1, 1.2, 1, 2, 0, 0), x2, rows2, 2));
  }

  @Test
  void aRowCountsAsMisdirectedOnlyWhenClearlyNearerAnotherClass() {
    // three classes in two dimensions, rows at 0, 120 and 240 degrees (mean 0, already unit): a
    // change of row 0 at 62 degrees has cosine 0.4695 with its own row and 0.5299 with row 1's,
    // nearer row 1 by 0.06, within the margin 0.1 (a similar class); at 80 degrees 0.1736 against
    // 0.7660, clearly nearer row 1
    float[] x = Fixtures.floats(1, 0, -0.5, Math.sqrt(0.75), -0.5, -Math.sqrt(0.75), 0, 0, 0);
    double[][] rows = RobustRules.unitCentredRows(x, 3, 2);
    assertEquals(0.1, RobustRules.MISDIRECTED_MARGIN);
    assertEquals(0, RobustRules.misdirectedShare(rowZeroMovedAt(x, 62), x, rows, 2));
    assertEquals(1, RobustRules.misdirectedShare(rowZeroMovedAt(x, 80), x, rows, 2));
    assertEquals(0, RobustRules.misdirectedShare(rowZeroMovedAt(x, 55), x, rows, 2));
  }

  private static float[] rowZeroMovedAt(float[] x, double degrees) {
    float[] y = x.clone();
    y[0] += (float) (0.1 * Math.cos(Math.toRadians(degrees)));
    y[1] += (float) (0.1 * Math.sin(Math.toRadians(degrees)));
    return y;
  }

  @Test
  void updatesWhoseClassRowsMoveTowardOtherClassesAreLeftOut() {
    // base w = (1, -1): a, b, c move each row along itself (shares 0); d swaps the rows' changes,
    // as training on flipped labels does (share 1) and is left out at the ceiling 0.5.
    // FedAvg of a, b, c (weights 1, 1, 2): w0 (1.5 + 1.3 + 2 x 1.2) / 4 = 1.3,
    // w1 (-1.5 - 1.2 - 2 x 1.4) / 4 = -1.375, b0 (0.1 + 0 + 2 x 0.2) / 4 = 0.125, b1 -0.1 / 4
    RobustSettings classRows =
        new RobustSettings(
            Rule.MEAN, 0.2, 0, 0, 0, 0, -1, RobustSettings.Direction.UNIT_MEAN, 0.5, 0);
    Strategy strategy = RobustStrategy.wrap(FEDAVG, classRows);
    Model base = base(1, -1, 0, 0);
    Aggregate a =
        assertOrderAndPartitionFree(
            strategy,
            base,
            StrategySettings.of(strategy, Map.of()),
            List.of(
                update("a", 1, 1.5, -1.5, 0.1, -0.1),
                update("b", 1, 1.3, -1.2, 0, 0),
                update("c", 2, 1.2, -1.4, 0.2, 0),
                update("d", 1, 0.5, -0.5, 0, 0)));
    assertBits(Fixtures.floats(1.3, -1.375, 0.125, -0.025), a.parameters());
    assertEquals(
        List.of(
            new UpdateOutcome(
                "d",
                UpdateOutcome.Action.EXCLUDED,
                "1 of the weight change in class rows moving toward another class's row, above the"
                    + " ceiling 0.5000: left out")),
        a.outcomes());
    assertEquals(
        "mean, exclude above 0.5 of the change in misdirected class rows", classRows.describe());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new RobustSettings(
                    Rule.MEAN, 0.2, 0, 0, 0, 0, -1, RobustSettings.Direction.UNIT_MEAN, 1.5, 0));
    assertEquals("misdirected-ceiling must be in [0, 1] (0: off), got 1.5", e.getMessage());
  }

  private static Strategy byMedian(double floor) {
    return RobustStrategy.wrap(
        FEDAVG,
        new RobustSettings(
            Rule.MEAN, 0.2, 0, 0, 0, 0, floor, RobustSettings.Direction.MEDIAN, 0, 0));
  }

  private static final List<UpdateParameters> FOUR =
      List.of(
          update("a", 1, 1, 0, 1, 0),
          update("b", 1, 2, 1, 0, 0),
          update("c", 2, 1, 1, 1, 1),
          update("d", 1, -2, -1, -1, 0));

  @Test
  void changesPointingAwayFromTheUnitMeanAreLeftOut() {
    // |a| = sqrt 2, |b| = sqrt 5, |c| = 2, |d| = sqrt 6; the unit changes summed:
    // u = a / sqrt 2 + b / sqrt 5 + c / 2 + d / sqrt 6
    //   = (0.70711 + 0.89443 + 0.5 - 0.81650, 0.44721 + 0.5 - 0.40825, 0.70711 + 0.5 - 0.40825,
    //      0.5) = (1.28504, 0.53896, 0.79886, 0.5), |u| = 1.68226
    // cos(d, u) = (-2.57008 - 0.53896 - 0.79886) / (2.44949 x 1.68226) = -0.9484; a, b, c positive
    // d fails floor 0, so the reference is refined to the unit mean of a, b, c:
    // u2 = (2.10154, 0.94721, 1.20711, 0.5), |u2| = 2.64968
    // cos(d, u2) = (-4.20308 - 0.94721 - 1.20711) / (2.44949 x 2.64968) = -0.9795, but d is
    // measured against u2 plus its own unit: p = -0.9795 x 2.64968 = -2.59539,
    // (p + 1) / sqrt(2.64968^2 + 2 p + 1) = -1.59539 / 1.68226 = -0.9484 (u2 + d / |d| is u again)
    // (a 0.8830, b 0.8693, c 0.8974): d is left out; FedAvg of a, b, c (weights 1, 1, 2)
    // = (1.25, 0.75, 0.75, 0.5)
    Aggregate a = run(direction(0, 0, 0, 0), FOUR);
    assertBits(Fixtures.floats(1.25, 0.75, 0.75, 0.5), a.parameters());
    assertEquals(
        List.of(
            new UpdateOutcome(
                "d",
                UpdateOutcome.Action.EXCLUDED,
                "change at cosine -0.9484 to the unit-mean change of itself and the 3 updates a"
                    + " first pass left, below the floor 0: left out")),
        a.outcomes());
  }

  @Test
  void withAMadMultipleOnlyOutliersOfTheRoundAreLeftOut() {
    // six changes from a zero base (weights 1), floor 0. First pass, against the unit mean of all:
    // cosines a -0.3912, b 0.5710, c 0.4509, d 0.2704, e -0.0727, f 0.5715 (median 0.3607,
    // median deviation 0.2106, so 1 MAD below the median is 0.1501: the floor 0 is lower and
    // decides); a and e fail, and the reference is refined to the unit mean of b, c, d, f:
    // a -0.3080, b 0.4865, c 0.7788, d 0.1651, e -0.0505, f 0.8628 (a and e with their own unit
    // added), median 0.3258, median deviation 0.4147.
    List<UpdateParameters> six =
        List.of(
            update("a", 1, 0, -1, 0, -1),
            update("b", 1, 0, 2, 0, -1),
            update("c", 1, 0, 1, 1, 2),
            update("d", 1, 0, -1, 2, -1),
            update("e", 1, 1, 0, -1, 0),
            update("f", 1, 0, 2, 1, 2));
    // the floor alone leaves out a and e: mean of b, c, d, f = (0, 4, 4, 2) / 4
    Aggregate floorAlone = run(byMad(0), six);
    assertBits(Fixtures.floats(0, 1, 1, 0.5), floorAlone.parameters());
    assertEquals(
        "change at cosine -0.05052 to the unit-mean change of itself and the 4 updates a first"
            + " pass left, below the floor 0: left out",
        bySite(floorAlone).get("e").reason());
    // with K = 1 the floor drops to 0.3258 - 0.4147 = -0.08887, below e's -0.0505: only a is
    // an outlier of its round; mean of b, c, d, e, f = (1, 4, 3, 2) / 5
    Aggregate outliers = run(byMad(1), six);
    assertBits(Fixtures.floats(0.2, 0.8, 0.6, 0.4), outliers.parameters());
    assertEquals(
        List.of(
            new UpdateOutcome(
                "a",
                UpdateOutcome.Action.EXCLUDED,
                "change at cosine -0.3080 to the unit-mean change of itself and the 4 updates a"
                    + " first pass left, below -0.08887, the lower of the floor 0 and the round's"
                    + " median cosine 0.3258 less 1 x its median deviation 0.4147: left out")),
        outliers.outcomes());
    assertEquals(
        "mean, exclude below cosine 0.0 to the unit-mean direction and 1.0 median deviations below"
            + " the round's median cosine",
        new RobustSettings(Rule.MEAN, 0.2, 0, 0, 0, 0, 0, RobustSettings.Direction.UNIT_MEAN, 0, 1)
            .describe());
    // a seventh change g = (-40, 0, 0, 0), left out by norm (40 above 4 x the median norm 2.449),
    // does not count toward the median and deviation: they stay those of the six, and e stays in.
    // Counted, its cosine 0.3997 would lift the median to 0.3997 and the floor to 0, leaving e out.
    List<UpdateParameters> seven = new java.util.ArrayList<>(six);
    seven.add(update("g", 1, -40, 0, 0, 0));
    Aggregate withLong =
        run(
            RobustStrategy.wrap(
                FEDAVG,
                new RobustSettings(
                    Rule.MEAN, 0.2, 0, 0, 0, 4, 0, RobustSettings.Direction.UNIT_MEAN, 0, 1)),
            seven);
    assertBits(Fixtures.floats(0.2, 0.8, 0.6, 0.4), withLong.parameters());
    assertEquals(Set.of("a", "g"), bySite(withLong).keySet());
    assertEquals(
        "change norm 40 above 4 x the median norm 2.449: left out",
        bySite(withLong).get("g").reason());
    assertTrue(
        bySite(withLong)
            .get("a")
            .reason()
            .endsWith(
                "below -0.08887, the lower of the floor 0 and the round's median cosine 0.3258 less"
                    + " 1 x its median deviation 0.4147: left out"),
        bySite(withLong).get("a").reason());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new RobustSettings(
                    Rule.MEAN, 0.2, 0, 0, 0, 0, 0, RobustSettings.Direction.UNIT_MEAN, 0, -1));
    assertEquals("direction-mad-multiple must be >= 0 (0: off), got -1.0", e.getMessage());
  }

  private static Strategy byMad(double k) {
    return RobustStrategy.wrap(
        FEDAVG,
        new RobustSettings(
            Rule.MEAN, 0.2, 0, 0, 0, 0, 0, RobustSettings.Direction.UNIT_MEAN, 0, k));
  }

  @Test
  void changesPointingAwayFromTheMedianChangeAreLeftOut() {
    // median of the four changes (even count: mean of the middle pair), per coordinate:
    // w0 {-2, 1, 1, 2} -> 1; w1 {-1, 0, 1, 1} -> 0.5; b0 {-1, 0, 1, 1} -> 0.5; b1 {0, 0, 0, 1} -> 0
    // m = (1, 0.5, 0.5, 0), |m| = sqrt(1.5). Cosines with m:
    // a: 1.5 / (sqrt 2 sqrt 1.5) = 0.8660; b: 2.5 / (sqrt 5 sqrt 1.5) = 0.9129;
    // c: 2 / (2 sqrt 1.5) = 0.8165; d: -3 / (sqrt 6 sqrt 1.5) = -1
    // floor 0: d fails the first pass; the median of a, b, c is (1, 1, 1, 0), and d's cosine with
    // it -4 / (sqrt 6 sqrt 3) = -0.9428 (a 0.8165, b 0.7746, c 0.8660): d is left out; FedAvg of
    // a, b, c (weights 1, 1, 2): (1 + 2 + 2, 0 + 1 + 2, 1 + 0 + 2, 0 + 0 + 2) / 4
    // = (1.25, 0.75, 0.75, 0.5)
    Aggregate a = run(byMedian(0), FOUR);
    assertBits(Fixtures.floats(1.25, 0.75, 0.75, 0.5), a.parameters());
    assertEquals(
        List.of(
            new UpdateOutcome(
                "d",
                UpdateOutcome.Action.EXCLUDED,
                "change at cosine -0.9428 to the median change of the 3 updates a first pass left,"
                    + " below the floor 0: left out")),
        a.outcomes());
    // floor 0.85 (between c's 0.8165 and a's 0.8660): c and d fail the first pass; the median of
    // a and b is (1.5, 0.5, 0.5, 0), |.| = sqrt 2.75; cosines a 2 / (sqrt 2 sqrt 2.75) = 0.8528,
    // b 3.5 / (sqrt 5 sqrt 2.75) = 0.9439, c 2.5 / (2 sqrt 2.75) = 0.7538, d -0.9847:
    // c and d are left out; mean of a and b
    Aggregate b = run(byMedian(0.85), FOUR);
    assertBits(Fixtures.floats(1.5, 0.5, 0.5, 0), b.parameters());
    assertEquals(
        "change at cosine 0.7538 to the median change of the 2 updates a first pass left,"
            + " below the floor 0.8500: left out",
        bySite(b).get("c").reason());
    assertEquals(Set.of("c", "d"), bySite(b).keySet());
  }

  @Test
  void aSignFlippedUpdateIsLeftOutWhileTheHonestOnesStay() {
    // From a zero base, a sign-flipped update -y is exactly as long as the honest y it flips, so
    // exclusion by norm (4 x the median) and clipping (2 x) let it through; the direction rule
    // (cosine with the median change below 0) leaves it out and the round is FedAvg of the four
    // honest updates, bit for bit.
    List<UpdateParameters> honest =
        List.of(
            update("h1", 3, 1, 2, 0, 1),
            update("h2", 5, 2, 1, 1, 0),
            update("h3", 2, 1, 1, 2, 1),
            update("h4", 4, 2, 2, 1, 1));
    List<UpdateParameters> all = new java.util.ArrayList<>(honest);
    all.add(update("x", 4, -1, -1, -2, -1)); // h3 flipped
    Strategy byNorm = direction(-1, 4, 2, 4);
    assertTrue(run(byNorm, all).outcomes().isEmpty(), "norm rules see nothing");
    Aggregate a = run(direction(0, 4, 2, 4), all);
    assertBits(run(FEDAVG, honest).parameters(), a.parameters());
    assertEquals(Set.of("x"), bySite(a).keySet());
    assertEquals(UpdateOutcome.Action.EXCLUDED, bySite(a).get("x").action());
    assertTrue(
        bySite(a).get("x").reason().startsWith("change at cosine -0."),
        bySite(a).get("x").reason());
  }

  @Test
  void whenEveryUpdateFailsTheFloorTheBaseIsPublishedAgain() {
    // the unit changes of (1, 1, 0, 0), (0, 1, 1, 0), (1, 0, 1, 0) sum to (2, 2, 2, 0) / sqrt 2;
    // every cosine with it is 2 / (sqrt 2 sqrt 3) = 0.8165, below 0.9: all three are left out, the
    // zero base stays
    Aggregate a =
        run(
            direction(0.9, 0, 0, 0),
            List.of(
                update("a", 1, 1, 1, 0, 0),
                update("b", 1, 0, 1, 1, 0),
                update("c", 1, 1, 0, 1, 0)));
    assertBits(Fixtures.floats(0, 0, 0, 0), a.parameters());
    assertEquals(3, a.outcomes().size());
    assertTrue(a.outcomes().stream().allMatch(o -> o.action() == UpdateOutcome.Action.EXCLUDED));
  }

  @Test
  void aZeroReferenceLeavesNothingOut() {
    // per coordinate two of three changes are 0, so the median change is 0 and points nowhere:
    // the direction rule has nothing to compare with; the round is the plain mean
    Aggregate a =
        run(
            byMedian(0.5),
            List.of(
                update("a", 1, 3, 0, 0, 0),
                update("b", 1, 0, 3, 0, 0),
                update("c", 1, 0, 0, 3, 0)));
    assertBits(Fixtures.floats(1, 1, 1, 0), a.parameters());
    assertTrue(a.outcomes().isEmpty());
    // opposite unit changes sum to 0: again nothing to compare with
    Aggregate b =
        run(
            direction(0.5, 0, 0, 0),
            List.of(update("a", 1, 2, 0, 0, 0), update("b", 1, -2, 0, 0, 0)));
    assertBits(Fixtures.floats(0, 0, 0, 0), b.parameters());
    assertTrue(b.outcomes().isEmpty());
  }

  @Test
  void fixedClippingStreamsThroughTheWrappedFold() {
    // bound 2: a (0, 8, 0, 0) -> (0, 2, 0, 0); b (0, 0, 1, 0) stays; mean (0, 1, 0.5, 0)
    Strategy strategy = robust(Rule.MEAN, 0.2, 2, 0, 0);
    assertTrue(
        strategy.newFold(zero, StrategySettings.of(strategy, Map.of()))
            instanceof RobustStrategy.Clipping);
    Aggregate a = run(strategy, List.of(update("a", 1, 0, 8, 0, 0), update("b", 1, 0, 0, 1, 0)));
    assertBits(Fixtures.floats(0, 1, 0.5, 0), a.parameters());
    assertEquals(
        "change norm 8 clipped to the bound 2 (scaled by 0.2500)", a.outcomes().get(0).reason());
  }

  @Test
  void weightCapLimitsOneUpdatesShare() {
    // numExamples 1000, 10, 30 -> median 30, cap 1 x 30: a counts 30
    // mean: (30 * 1, 10 * 1, 30 * 1, 0) / 70
    Aggregate a =
        run(
            robust(Rule.MEAN, 0.2, 0, 0, 1),
            List.of(
                update("a", 1000, 1, 0, 0, 0),
                update("b", 10, 0, 1, 0, 0),
                update("c", 30, 0, 0, 1, 0)));
    assertBits(
        new float[] {(float) (30.0 / 70), (float) (10.0 / 70), (float) (30.0 / 70), 0},
        a.parameters());
    assertEquals("numExamples 1000 capped at 30 (1 x the median 30)", bySite(a).get("a").reason());
  }

  @Test
  void aServerOptimizerStepsFromTheRobustEstimate() {
    // fedavgm at server-lr 1, momentum 0.5 from a zero base and no momentum: v = delta, x = delta,
    // so the median (2, 1, 4, 0) of the first test comes out unchanged
    Strategy strategy =
        RobustStrategy.wrap(
            Strategies.named("fedavgm"), new RobustSettings(Rule.MEDIAN, 0.2, 0, 0, 0));
    Aggregate a =
        assertOrderAndPartitionFree(
            strategy,
            zero,
            StrategySettings.of(strategy, Map.of()),
            List.of(
                update("a", 5, 1, 2, 3, 4),
                update("b", 1, 2, 0, 5, -1),
                update("c", 7, 10, 1, 4, 0)));
    assertBits(Fixtures.floats(2, 1, 4, 0), a.parameters());
  }

  @Test
  void badSettingsAreRefusedWithTheValue() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new RobustSettings(Rule.MEAN, 0.5, 0, 0, 0));
    assertEquals("attacker-fraction must be in [0, 0.5), got 0.5", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> new RobustSettings(Rule.MEAN, 0.1, -1, 0, 0));
    assertEquals("clip-norm must be >= 0 (0: off), got -1.0", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new RobustSettings(Rule.MEAN, 0.1, 0, 0, 0, 0, 1));
    assertEquals("direction-floor must be in [-1, 1) (-1: off), got 1.0", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new RobustSettings(Rule.MEAN, 0.1, 0, 0, 0, 0, Double.NaN));
    assertEquals("direction-floor must be in [-1, 1) (-1: off), got NaN", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> RobustSettings.Direction.of("mean"));
    assertEquals("unknown direction-reference 'mean' (known: unit-mean, median)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Rule.of("average"));
    assertEquals(
        "unknown robust aggregation 'average' (known: mean, median, trimmed-mean, krum, multi-krum)",
        e.getMessage());
  }
}
