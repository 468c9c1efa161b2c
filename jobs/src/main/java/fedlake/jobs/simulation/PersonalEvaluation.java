package fedlake.jobs.simulation;

import fedlake.core.client.FedDatRound;
import fedlake.core.client.PersonalHead;
import fedlake.core.client.SiteState;
import fedlake.core.data.Dataset;
import fedlake.core.model.Classifier;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * {@code simulate --personalise}: every site's test rows drawn with the site's own training label
 * distribution (seeded), and per site the accuracy of its personalised model against the global
 * model's on the same rows. The personalised model is FedDAT's dual-teacher form, the logits of the
 * global (shared) head and of the local head the site keeps in its {@link SiteState} averaged
 * ({@link PersonalHead}); the report also gives the local head alone.
 */
public final class PersonalEvaluation {
  /** Test rows drawn per site unless --site-test-rows says otherwise. */
  public static final int ROWS_DEFAULT = 200;

  private PersonalEvaluation() {}

  /** One site: its rows' accuracies; {@code other} is a third model's (clustered runs), or null. */
  public record Site(
      String site, int rows, double personalised, double local, double global, Double other) {}

  /** Every site and the means over sites. */
  public record Result(
      List<Site> sites, double personalised, double local, double global, Double other) {
    public double gain() {
      return personalised - global;
    }
  }

  /**
   * {@code rows} test rows for a site whose training rows are {@code train}: per class {@code rows
   * x (the class's share of train)} rows, rounded by largest remainder, drawn from {@code test}'s
   * rows of that class without replacement while they last (a seeded shuffle), then again from the
   * start. Classes with no test rows are left out and their rows go to the others.
   */
  public static Dataset draw(Dataset train, Dataset test, int classes, int rows, long seed) {
    if (rows < 1) {
      throw new IllegalArgumentException(
          "simulate: --site-test-rows must be at least 1, got " + rows);
    }
    long[] trainCounts = train.labelHistogram(classes);
    List<List<Integer>> byClass = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      byClass.add(new ArrayList<>());
    }
    for (int i = 0; i < test.size(); i++) {
      int label = test.label(i);
      if (label >= 0 && label < classes) {
        byClass.get(label).add(i);
      }
    }
    long total = 0;
    for (int c = 0; c < classes; c++) {
      if (byClass.get(c).isEmpty()) {
        trainCounts[c] = 0;
      }
      total += trainCounts[c];
    }
    if (total == 0) {
      throw new IllegalArgumentException(
          "simulate: site rows of "
              + train.source()
              + " have no class with test rows in "
              + test.source());
    }
    int[] counts = new int[classes];
    double[] remainder = new double[classes];
    int given = 0;
    for (int c = 0; c < classes; c++) {
      double exact = (double) rows * trainCounts[c] / total;
      counts[c] = (int) Math.floor(exact);
      remainder[c] = exact - counts[c];
      given += counts[c];
    }
    Integer[] order = new Integer[classes];
    for (int c = 0; c < classes; c++) {
      order[c] = c;
    }
    Arrays.sort(
        order,
        (a, b) ->
            a.equals(b)
                ? 0
                : remainder[a] != remainder[b]
                    ? Double.compare(remainder[b], remainder[a])
                    : Integer.compare(a, b));
    for (int i = 0; given < rows; i++) {
      counts[order[i % classes]]++;
      given++;
    }
    SplittableRandom random = new SplittableRandom(seed);
    int[] picked = new int[rows];
    int at = 0;
    for (int c = 0; c < classes; c++) {
      if (counts[c] == 0) {
        continue;
      }
      int[] pool = byClass.get(c).stream().mapToInt(Integer::intValue).toArray();
      fedlake.core.client.LocalTraining.shuffle(pool, random);
      for (int k = 0; k < counts[c]; k++) {
        picked[at++] = pool[k % pool.length];
      }
    }
    return test.select(picked);
  }

  /**
   * Evaluates every site: the global model, the personalised model of its kept local head (the
   * global model alone when it keeps none yet), and {@code other} per site when given.
   */
  public static Result evaluate(
      Model global,
      Path stateDir,
      String storeRoot,
      List<String> sites,
      List<Dataset> siteTests,
      List<Classifier> other) {
    Classifier shared = Models.classifier(global);
    List<Site> out = new ArrayList<>();
    double p = 0;
    double localSum = 0;
    double g = 0;
    double o = 0;
    for (int s = 0; s < sites.size(); s++) {
      Dataset rows = siteTests.get(s);
      SiteState state = SiteState.open(stateDir, storeRoot, sites.get(s));
      PersonalHead personal = FedDatRound.personalised(global, state, global.getCluster());
      double globalAccuracy = shared.evaluate(rows).accuracy();
      double personalAccuracy =
          personal == null ? globalAccuracy : personal.evaluate(rows).accuracy();
      double localAccuracy =
          personal == null ? globalAccuracy : personal.local().evaluate(rows).accuracy();
      Double otherAccuracy = other == null ? null : other.get(s).evaluate(rows).accuracy();
      out.add(
          new Site(
              sites.get(s),
              rows.size(),
              personalAccuracy,
              localAccuracy,
              globalAccuracy,
              otherAccuracy));
      p += personalAccuracy;
      localSum += localAccuracy;
      g += globalAccuracy;
      o += otherAccuracy == null ? 0 : otherAccuracy;
    }
    int n = sites.size();
    return new Result(out, p / n, localSum / n, g / n, other == null ? null : o / n);
  }

  /** Prints the per-site table and the means. */
  public static void print(Result result, String otherName, Consumer<String> log) {
    log.accept(
        String.format(
            Locale.ROOT,
            "%-10s %6s %12s %10s %9s%s",
            "site",
            "rows",
            "personalised",
            "local-head",
            "global",
            otherName == null ? "" : String.format(Locale.ROOT, " %12s", otherName)));
    for (Site s : result.sites()) {
      log.accept(
          String.format(
              Locale.ROOT,
              "%-10s %6d %12.4f %10.4f %9.4f%s",
              s.site(),
              s.rows(),
              s.personalised(),
              s.local(),
              s.global(),
              s.other() == null ? "" : String.format(Locale.ROOT, " %12.4f", s.other())));
    }
    log.accept(
        String.format(
            Locale.ROOT,
            "personalised: mean per-site accuracy %.4f personalised (local + global logits), %.4f"
                + " local head alone, %.4f global (%+.2f points)%s",
            result.personalised(),
            result.local(),
            result.global(),
            100 * result.gain(),
            result.other() == null
                ? ""
                : String.format(Locale.ROOT, ", %.4f %s", result.other(), otherName)));
  }
}
