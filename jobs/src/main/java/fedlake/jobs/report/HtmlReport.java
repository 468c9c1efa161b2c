package fedlake.jobs.report;

import fedlake.core.round.AuditStatus;
import fedlake.core.round.Evaluation;
import fedlake.core.spec.Specs;
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.schema.FederationSpec;
import fedlake.schema.RoundHistory;
import fedlake.schema.UpdateAudit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.avro.Schema;

/**
 * The round report: one self-contained HTML page (inline SVG and CSS, no script, nothing fetched)
 * of a federation's history and audit, read through the same store reader as {@code fedlake
 * history}, with every figure also in a table under its plot, printed as {@code fedlake history}
 * prints it ({@link Figures}). Sections without data are left out with one line saying why.
 */
public final class HtmlReport {
  /** Most sites drawn in the site-by-round grid; the table lists them all. */
  static final int MAX_GRID_SITES = 300;

  private static final String[] CLUSTER_COLOURS = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"
  };

  private final Store store;
  private final int roundFrom;
  private final List<RoundHistory> rows;
  private final SortedMap<Integer, List<UpdateAudit>> audits = new TreeMap<>();
  private final SortedSet<Integer> clusters = new TreeSet<>();
  private final StringBuilder html = new StringBuilder();

  private HtmlReport(Store store, int roundFrom) {
    this.store = store;
    this.roundFrom = roundFrom;
    this.rows = store.readHistory().stream().filter(h -> h.getRound() >= roundFrom).toList();
    for (RoundHistory h : rows) {
      clusters.add(h.getCluster());
      audits.computeIfAbsent(h.getRound(), store::readAudit);
    }
  }

  /** The page for {@code store}'s history from round {@code roundFrom} on. */
  public static String build(Store store, int roundFrom) {
    HtmlReport report = new HtmlReport(store, roundFrom);
    if (report.rows.isEmpty() && store.latest().isEmpty()) {
      throw new IllegalStateException(
          "Cannot report on "
              + store.root()
              + ": it holds no federation (no model pointer "
              + Store.LATEST
              + " and no round history)");
    }
    return report.page();
  }

  private String page() {
    html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
        .append("<title>fedlake round report: ")
        .append(Html.escape(store.root().toString()))
        .append("</title>\n<style>\n")
        .append(Html.STYLE)
        .append("</style></head><body>\n");
    header();
    if (rows.isEmpty()) {
      html.append(
          "<p class=\"why\">No round history yet"
              + (roundFrom > 0 ? " from round " + roundFrom : "")
              + ": no round has been aggregated, so there is nothing to plot.</p>\n");
    } else {
      accuracy();
      perClass();
      participation();
      reasons();
      norms();
      sites();
      clusterSizes();
      epsilon();
    }
    html.append(
        "<p class=\"foot\">Written by <code>fedlake report</code> from the store's history and"
            + " audit files; the tables print each figure as <code>fedlake history</code> does."
            + " See docs/report.md.</p>\n");
    return html.append("</body></html>\n").toString();
  }

  // ---- header ---------------------------------------------------------------------------------

  private void header() {
    Optional<FederationSpec> spec = Specs.current(store);
    Optional<Latest> latest = store.latest();
    html.append("<h1>fedlake round report</h1>\n<table class=\"facts\">\n");
    fact("Federation", store.root().toString());
    fact(
        "Spec version",
        spec.map(s -> s.getSpecVersion() + " (" + s.getChange() + ")").orElse("- (no spec)"));
    String strategy =
        spec.map(s -> s.getStrategy().getName())
            .orElse(rows.isEmpty() ? "-" : rows.get(rows.size() - 1).getStrategy());
    if (!rows.isEmpty() && !rows.get(rows.size() - 1).getStrategy().equals(strategy)) {
      strategy += " (last round ran " + rows.get(rows.size() - 1).getStrategy() + ")";
    }
    fact("Strategy", strategy);
    spec.ifPresent(
        s ->
            fact(
                "Model",
                Specs.id(s.getModel().getKind())
                    + ", "
                    + s.getModel().getClassCount()
                    + " classes x "
                    + s.getModel().getDimension()
                    + " dims, "
                    + s.getModel().getClusters()
                    + " cluster(s) at round 0, initialised from "
                    + s.getModel().getInitialization()));
    SortedSet<Integer> rounds = new TreeSet<>();
    rows.forEach(h -> rounds.add(h.getRound()));
    long published = rows.stream().filter(h -> h.getPublishedModelVersion() != null).count();
    fact(
        "Rounds",
        rounds.isEmpty()
            ? "none aggregated yet"
            : rounds.size()
                + " in history (rounds "
                + rounds.first()
                + " to "
                + rounds.last()
                + (roundFrom > 0 ? ", from --round-from " + roundFrom : "")
                + "), "
                + published
                + " of "
                + rows.size()
                + " round rows published a model");
    fact(
        "Latest model",
        latest
            .map(l -> "round " + l.round() + ": " + String.join(", ", l.versions().values()))
            .orElse("-"));
    String evaluation;
    try {
      evaluation =
          Evaluation.registeredFile(store)
              .map(p -> p.getName() + " (" + Evaluation.FOLDER + "/)")
              .orElse("none registered (fedlake evaluation set)");
    } catch (RuntimeException e) {
      evaluation = "cannot be read: " + e.getMessage();
    }
    fact("Evaluation set", evaluation);
    html.append("</table>\n");
  }

  private void fact(String name, String value) {
    html.append("<tr><th>")
        .append(Html.escape(name))
        .append("</th><td>")
        .append(Html.escape(value))
        .append("</td></tr>\n");
  }

  // ---- sections -------------------------------------------------------------------------------

  private void section(String id, String title, String purpose) {
    html.append("<section id=\"")
        .append(id)
        .append("\">\n<h2>")
        .append(Html.escape(title))
        .append("</h2>\n<p class=\"what\">")
        .append(Html.escape(purpose))
        .append("</p>\n");
  }

  private void hidden(String why) {
    html.append("<p class=\"why\">").append(Html.escape(why)).append("</p>\n</section>\n");
  }

  private void table(String[] head, List<String[]> body) {
    html.append("<details><summary>Figures (")
        .append(body.size())
        .append(" rows)</summary>\n<table class=\"figures\"><thead><tr>");
    for (String h : head) {
      html.append("<th>").append(Html.escape(h)).append("</th>");
    }
    html.append("</tr></thead><tbody>\n");
    for (String[] row : body) {
      html.append("<tr>");
      for (String cell : row) {
        html.append("<td>").append(Html.escape(cell)).append("</td>");
      }
      html.append("</tr>\n");
    }
    html.append("</tbody></table></details>\n</section>\n");
  }

  private String clusterName(int cluster, String what) {
    return clusters.size() > 1 ? what + ", cluster " + cluster : what;
  }

  private String colour(int index) {
    return CLUSTER_COLOURS[Math.floorMod(index, CLUSTER_COLOURS.length)];
  }

  private List<RoundHistory> rowsOf(int cluster) {
    return rows.stream().filter(h -> h.getCluster() == cluster).toList();
  }

  private static double[] rounds(List<RoundHistory> list) {
    return list.stream().mapToDouble(RoundHistory::getRound).toArray();
  }

  private static Double[] values(
      List<RoundHistory> list, java.util.function.Function<RoundHistory, Double> field) {
    return list.stream()
        .map(field)
        .map(v -> v == null || v.isNaN() ? null : v)
        .toArray(Double[]::new);
  }

  private static String[] tips(
      List<RoundHistory> list,
      java.util.function.Function<RoundHistory, Double> field,
      String what,
      java.util.function.Function<Double, String> format) {
    return list.stream()
        .map(
            h ->
                "round "
                    + h.getRound()
                    + ", cluster "
                    + h.getCluster()
                    + ": "
                    + what
                    + " "
                    + format.apply(field.apply(h)))
        .toArray(String[]::new);
  }

  private void accuracy() {
    section(
        "accuracy",
        "Accuracy per round",
        "Is the model improving? Test accuracy is the model each round published, measured on the"
            + " registered evaluation set; probe accuracy the same model on the round job's --probe"
            + " set; the band spans the lowest to highest accuracy sites reported on their own"
            + " held-out rows (edge train --holdout) for the model the round started from, with"
            + " their median as a dashed line.");
    boolean any =
        rows.stream()
            .anyMatch(
                h ->
                    h.getTestAccuracy() != null
                        || h.getProbeAccuracy() != null
                        || h.getSiteAccuracyMedian() != null);
    if (!any) {
      hidden(
          "Not shown: no round has a held-out accuracy. Register an evaluation set (fedlake"
              + " evaluation set --store URI --data PATH), have sites train with --holdout F, or"
              + " calibrate with --probe PATH; later rounds then record one.");
      return;
    }
    List<Svg.Line> lines = new ArrayList<>();
    List<Svg.Band> bands = new ArrayList<>();
    int index = 0;
    for (int cluster : clusters) {
      List<RoundHistory> mine = rowsOf(cluster);
      String colour = colour(index++);
      double[] x = rounds(mine);
      if (mine.stream().anyMatch(h -> h.getSiteAccuracyMin() != null)) {
        bands.add(
            new Svg.Band(
                clusterName(cluster, "sites: min-max"),
                colour,
                x,
                values(mine, RoundHistory::getSiteAccuracyMin),
                values(mine, RoundHistory::getSiteAccuracyMax)));
        lines.add(
            new Svg.Line(
                clusterName(cluster, "sites: median"),
                colour,
                true,
                x,
                values(mine, RoundHistory::getSiteAccuracyMedian),
                tips(mine, RoundHistory::getSiteAccuracyMedian, "site median", Figures::accuracy)));
      }
      if (mine.stream().anyMatch(h -> h.getTestAccuracy() != null)) {
        lines.add(
            new Svg.Line(
                clusterName(cluster, "test"),
                colour,
                false,
                x,
                values(mine, RoundHistory::getTestAccuracy),
                tips(mine, RoundHistory::getTestAccuracy, "test accuracy", Figures::accuracy)));
      }
      if (mine.stream().anyMatch(h -> h.getProbeAccuracy() != null)) {
        lines.add(
            new Svg.Line(
                clusterName(cluster, "probe"),
                "#d62728",
                true,
                x,
                values(mine, RoundHistory::getProbeAccuracy),
                tips(mine, RoundHistory::getProbeAccuracy, "probe accuracy", Figures::accuracy)));
      }
    }
    html.append(
        Svg.lineChart(
            "plot-accuracy",
            "round",
            "accuracy",
            lines,
            bands,
            Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY,
            300));
    List<String[]> body = new ArrayList<>();
    for (RoundHistory h : rows) {
      body.add(
          new String[] {
            Integer.toString(h.getRound()),
            Integer.toString(h.getCluster()),
            Figures.accuracy(h.getTestAccuracy()),
            Figures.count(h.getEvaluationRows()),
            Figures.accuracy(h.getProbeAccuracy()),
            Figures.accuracy(h.getSiteAccuracyMin()),
            Figures.accuracy(h.getSiteAccuracyMedian()),
            Figures.accuracy(h.getSiteAccuracyMax()),
            Figures.count(h.getSiteAccuracySites())
          });
    }
    table(
        new String[] {
          "round",
          "cluster",
          "test-acc",
          "eval-rows",
          "probe-acc",
          "site-min",
          "site-median",
          "site-max",
          "sites"
        },
        body);
  }

  private void perClass() {
    section(
        "per-class",
        "Per-class accuracy of the last evaluated round",
        "Which classes the latest evaluated model gets wrong: accuracy on the evaluation rows of"
            + " each class (classes without evaluation rows are left out).");
    RoundHistory last = null;
    for (RoundHistory h : rows) {
      if (h.getPerClassAccuracy() != null
          && (last == null
              || h.getRound() > last.getRound()
              || (h.getRound() == last.getRound() && h.getCluster() < last.getCluster()))) {
        last = h;
      }
    }
    if (last == null) {
      hidden("Not shown: no round has per-class accuracy (no evaluation set was registered).");
      return;
    }
    List<Double> perClass = last.getPerClassAccuracy();
    String[] labels = new String[perClass.size()];
    double[] values = new double[perClass.size()];
    String[] tips = new String[perClass.size()];
    List<String[]> body = new ArrayList<>();
    for (int c = 0; c < perClass.size(); c++) {
      labels[c] = Integer.toString(c);
      Double v = perClass.get(c);
      values[c] = v == null ? Double.NaN : v;
      tips[c] = "class " + c + ": " + Figures.accuracy(v);
      body.add(new String[] {Integer.toString(c), Figures.accuracy(v)});
    }
    html.append("<p class=\"note\">Round ")
        .append(last.getRound())
        .append(clusters.size() > 1 ? ", cluster " + last.getCluster() : "")
        .append(": model ")
        .append(Html.escape(last.getPublishedModelVersion()))
        .append(", test accuracy ")
        .append(Figures.accuracy(last.getTestAccuracy()))
        .append(" on ")
        .append(Figures.count(last.getEvaluationRows()))
        .append(" rows.</p>\n");
    html.append(
        Svg.stackedBars(
            "plot-per-class",
            "class",
            "accuracy",
            labels,
            List.of(new Svg.Layer("accuracy", "#1f77b4", values, tips)),
            240));
    table(new String[] {"class", "accuracy"}, body);
  }

  private void participation() {
    section(
        "participation",
        "Participation and rejections per round",
        "How many sites' updates each round aggregated, and how many update files it rejected"
            + " (the audit says why; see the next section).");
    SortedMap<Integer, long[]> perRound = new TreeMap<>();
    for (RoundHistory h : rows) {
      long[] counts = perRound.computeIfAbsent(h.getRound(), r -> new long[2]);
      counts[0] += h.getParticipants();
      counts[1] = h.getRejected(); // every cluster row of a round carries the round's rejections
    }
    String[] labels = new String[perRound.size()];
    double[] accepted = new double[perRound.size()];
    double[] rejected = new double[perRound.size()];
    String[] acceptedTips = new String[perRound.size()];
    String[] rejectedTips = new String[perRound.size()];
    int i = 0;
    for (var e : perRound.entrySet()) {
      labels[i] = Integer.toString(e.getKey());
      accepted[i] = e.getValue()[0];
      rejected[i] = e.getValue()[1];
      acceptedTips[i] = "round " + e.getKey() + ": " + e.getValue()[0] + " site(s) aggregated";
      rejectedTips[i] = "round " + e.getKey() + ": " + e.getValue()[1] + " file(s) rejected";
      i++;
    }
    html.append(
        Svg.stackedBars(
            "plot-participation",
            "round",
            "update files",
            labels,
            List.of(
                new Svg.Layer("aggregated", "#2ca02c", accepted, acceptedTips),
                new Svg.Layer("rejected", "#d62728", rejected, rejectedTips)),
            260));
    List<String[]> body = new ArrayList<>();
    for (RoundHistory h : rows) {
      body.add(
          new String[] {
            Integer.toString(h.getRound()),
            Integer.toString(h.getCluster()),
            h.getStatus(),
            Integer.toString(h.getParticipants()),
            Integer.toString(h.getRejected()),
            Long.toString(h.getTotalExamples())
          });
    }
    table(new String[] {"round", "cluster", "status", "sites", "rejected", "examples"}, body);
  }

  /** The kind of a rejection: its reason with numbers, quoted names and paths made generic. */
  static String reasonKind(String reason) {
    if (reason == null) {
      return "(no reason recorded)";
    }
    String kind =
        reason
            .replaceAll("[a-z0-9]+:/\\S*", "FILE")
            .replaceAll("'[^']*'", "'...'")
            .replaceAll("-?\\d+(\\.\\d+)?([eE]-?\\d+)?", "N");
    return kind.length() > 140 ? kind.substring(0, 137) + "..." : kind;
  }

  private void reasons() {
    section(
        "reasons",
        "Rejection reasons",
        "Why update files were rejected, over all rounds shown: each reason with its numbers and"
            + " names made generic, and how many files it rejected (fedlake history --audit R"
            + " lists the files).");
    Map<String, long[]> counts = new LinkedHashMap<>();
    Map<String, SortedSet<Integer>> rounds = new TreeMap<>();
    Map<String, Long> statuses = new TreeMap<>();
    for (var e : audits.entrySet()) {
      for (UpdateAudit a : e.getValue()) {
        statuses.merge(a.getStatus(), 1L, Long::sum);
        if (!AuditStatus.REJECTED.is(a.getStatus())) {
          continue;
        }
        String kind = reasonKind(a.getReason());
        counts.computeIfAbsent(kind, k -> new long[1])[0]++;
        rounds.computeIfAbsent(kind, k -> new TreeSet<>()).add(e.getKey());
      }
    }
    html.append("<p class=\"note\">Audit rows by status: ")
        .append(
            Html.escape(
                statuses.isEmpty()
                    ? "none"
                    : statuses.toString().replaceAll("[{}]", "").replace('=', ' ')))
        .append(".</p>\n");
    if (counts.isEmpty()) {
      hidden("Not shown: no update file was rejected in the rounds shown.");
      return;
    }
    List<Map.Entry<String, long[]>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
    String[] labels = new String[sorted.size()];
    double[] values = new double[sorted.size()];
    String[] tips = new String[sorted.size()];
    List<String[]> body = new ArrayList<>();
    for (int i = 0; i < sorted.size(); i++) {
      String kind = sorted.get(i).getKey();
      long n = sorted.get(i).getValue()[0];
      labels[i] = kind;
      values[i] = n;
      tips[i] = n + " file(s): " + kind;
      body.add(new String[] {kind, Long.toString(n), rounds.get(kind).toString()});
    }
    html.append(Svg.horizontalBars("plot-reasons", labels, values, tips));
    table(new String[] {"reason", "files", "rounds"}, body);
  }

  private void norms() {
    section(
        "norms",
        "Update norms per round",
        "How far sites moved the model: the smallest, mean and largest L2 norm of an aggregated"
            + " update's change from the round's base model. A max far above the mean points at a"
            + " site that trained much longer, diverged or attacks.");
    if (rows.stream().noneMatch(h -> h.getUpdateNormMean() != null)) {
      hidden("Not shown: no round aggregated an update.");
      return;
    }
    List<Svg.Line> lines = new ArrayList<>();
    List<Svg.Band> bands = new ArrayList<>();
    int index = 0;
    for (int cluster : clusters) {
      List<RoundHistory> mine = rowsOf(cluster);
      String colour = colour(index++);
      double[] x = rounds(mine);
      bands.add(
          new Svg.Band(
              clusterName(cluster, "min-max"),
              colour,
              x,
              values(mine, RoundHistory::getUpdateNormMin),
              values(mine, RoundHistory::getUpdateNormMax)));
      lines.add(
          new Svg.Line(
              clusterName(cluster, "max"),
              colour,
              true,
              x,
              values(mine, RoundHistory::getUpdateNormMax),
              tips(mine, RoundHistory::getUpdateNormMax, "largest norm", Figures::norm)));
      lines.add(
          new Svg.Line(
              clusterName(cluster, "mean"),
              colour,
              false,
              x,
              values(mine, RoundHistory::getUpdateNormMean),
              tips(mine, RoundHistory::getUpdateNormMean, "mean norm", Figures::norm)));
      lines.add(
          new Svg.Line(
              clusterName(cluster, "min"),
              colour,
              true,
              x,
              values(mine, RoundHistory::getUpdateNormMin),
              tips(mine, RoundHistory::getUpdateNormMin, "smallest norm", Figures::norm)));
    }
    html.append(
        Svg.lineChart("plot-norms", "round", "L2 norm of the change", lines, bands, 0, 0, 260));
    List<String[]> body = new ArrayList<>();
    for (RoundHistory h : rows) {
      body.add(
          new String[] {
            Integer.toString(h.getRound()),
            Integer.toString(h.getCluster()),
            Figures.norm(h.getUpdateNormMin()),
            Figures.norm(h.getUpdateNormMean()),
            Figures.norm(h.getUpdateNormMax()),
            Figures.norm(h.getModelChangeNorm())
          });
    }
    table(
        new String[] {"round", "cluster", "norm-min", "norm-mean", "norm-max", "model-change"},
        body);
  }

  /** Status of a site in a round: the best of its files' audit statuses. */
  private static final List<String> STATUS_ORDER =
      List.of(
          AuditStatus.ACCEPTED.id(),
          AuditStatus.CLIPPED.id(),
          AuditStatus.TRIMMED.id(),
          AuditStatus.EXCLUDED.id(),
          AuditStatus.REJECTED.id());

  private void sites() {
    section(
        "sites",
        "Per-site participation",
        "Which site took part in which round: a cell per site and round with an update file,"
            + " coloured by what the round job did with it (its best file when it sent several).");
    SortedMap<String, SortedMap<Integer, String>> grid = new TreeMap<>();
    for (var e : audits.entrySet()) {
      for (UpdateAudit a : e.getValue()) {
        String site = a.getSite() == null ? "(unknown)" : a.getSite();
        grid.computeIfAbsent(site, s -> new TreeMap<>())
            .merge(e.getKey(), a.getStatus(), HtmlReport::better);
      }
    }
    if (grid.isEmpty()) {
      hidden("Not shown: no round's audit lists an update file.");
      return;
    }
    List<Integer> columns = new ArrayList<>(audits.keySet());
    List<String> siteNames = new ArrayList<>(grid.keySet());
    if (siteNames.size() > MAX_GRID_SITES) {
      html.append("<p class=\"note\">The grid shows the first ")
          .append(MAX_GRID_SITES)
          .append(" of ")
          .append(siteNames.size())
          .append(" sites by name; the table lists all.</p>\n");
    }
    List<String> drawn = siteNames.subList(0, Math.min(MAX_GRID_SITES, siteNames.size()));
    String[][] status = new String[drawn.size()][columns.size()];
    String[][] tips = new String[drawn.size()][columns.size()];
    for (int r = 0; r < drawn.size(); r++) {
      for (int c = 0; c < columns.size(); c++) {
        String s = grid.get(drawn.get(r)).get(columns.get(c));
        status[r][c] = s;
        tips[r][c] = drawn.get(r) + ", round " + columns.get(c) + ": " + s;
      }
    }
    Map<String, String> colours = new LinkedHashMap<>();
    colours.put(AuditStatus.ACCEPTED.id(), "#2ca02c");
    colours.put(AuditStatus.CLIPPED.id(), "#ff7f0e");
    colours.put(AuditStatus.TRIMMED.id(), "#bcbd22");
    colours.put(AuditStatus.EXCLUDED.id(), "#9467bd");
    colours.put(AuditStatus.REJECTED.id(), "#d62728");
    html.append(
        Svg.grid(
            "plot-sites",
            drawn.toArray(String[]::new),
            columns.stream().map(String::valueOf).toArray(String[]::new),
            status,
            colours,
            tips));
    List<String[]> body = new ArrayList<>();
    for (String site : siteNames) {
      Map<String, Long> byStatus = new TreeMap<>();
      grid.get(site).values().forEach(s -> byStatus.merge(s, 1L, Long::sum));
      body.add(
          new String[] {
            site,
            Long.toString(grid.get(site).size()),
            Long.toString(byStatus.getOrDefault(AuditStatus.ACCEPTED.id(), 0L)),
            Long.toString(byStatus.getOrDefault(AuditStatus.REJECTED.id(), 0L)),
            Long.toString(grid.get(site).lastKey())
          });
    }
    table(new String[] {"site", "rounds", "accepted", "rejected", "last round"}, body);
  }

  private static String better(String a, String b) {
    int ia = STATUS_ORDER.indexOf(a);
    int ib = STATUS_ORDER.indexOf(b);
    return ib >= 0 && (ia < 0 || ib < ia) ? b : a;
  }

  private void clusterSizes() {
    section(
        "clusters",
        "Cluster sizes per round",
        "How many sites each cluster's model aggregated per round (clustered federations).");
    if (clusters.size() < 2) {
      hidden("Not shown: the federation is not clustered (one model, cluster 0).");
      return;
    }
    SortedSet<Integer> roundSet = new TreeSet<>();
    rows.forEach(h -> roundSet.add(h.getRound()));
    List<Integer> roundList = new ArrayList<>(roundSet);
    List<Svg.Layer> layers = new ArrayList<>();
    int index = 0;
    for (int cluster : clusters) {
      double[] values = new double[roundList.size()];
      String[] tips = new String[roundList.size()];
      for (RoundHistory h : rowsOf(cluster)) {
        int i = roundList.indexOf(h.getRound());
        values[i] = h.getParticipants();
        tips[i] = "round " + h.getRound() + ", cluster " + cluster + ": " + h.getParticipants();
      }
      layers.add(new Svg.Layer("cluster " + cluster, colour(index++), values, tips));
    }
    html.append(
        Svg.stackedBars(
            "plot-clusters",
            "round",
            "sites aggregated",
            roundList.stream().map(String::valueOf).toArray(String[]::new),
            layers,
            260));
    List<String[]> body = new ArrayList<>();
    for (RoundHistory h : rows) {
      body.add(
          new String[] {
            Integer.toString(h.getRound()),
            Integer.toString(h.getCluster()),
            Integer.toString(h.getParticipants())
          });
    }
    table(new String[] {"round", "cluster", "sites"}, body);
  }

  /** History fields that hold a privacy budget ε (any double field whose name has "epsilon"). */
  static List<String> epsilonFields() {
    List<String> names = new ArrayList<>();
    for (Schema.Field f : RoundHistory.getClassSchema().getFields()) {
      if (f.name().toLowerCase(Locale.ROOT).contains("epsilon")) {
        names.add(f.name());
      }
    }
    return names;
  }

  private void epsilon() {
    section(
        "epsilon",
        "Privacy budget per round",
        "The differential-privacy budget ε spent so far, per round, when the federation runs with"
            + " differential privacy.");
    List<String> fields = epsilonFields();
    List<Svg.Line> lines = new ArrayList<>();
    List<String[]> body = new ArrayList<>();
    for (String field : fields) {
      Double[] values = new Double[rows.size()];
      String[] tips = new String[rows.size()];
      boolean any = false;
      for (int i = 0; i < rows.size(); i++) {
        Object v = rows.get(i).get(field);
        values[i] = v instanceof Number n ? n.doubleValue() : null;
        any |= values[i] != null;
        tips[i] =
            "round " + rows.get(i).getRound() + ": " + field + " " + Figures.epsilon(values[i]);
        body.add(
            new String[] {
              Integer.toString(rows.get(i).getRound()),
              Integer.toString(rows.get(i).getCluster()),
              field,
              Figures.epsilon(values[i])
            });
      }
      if (any) {
        lines.add(new Svg.Line(field, colour(lines.size()), false, rounds(rows), values, tips));
      }
    }
    if (lines.isEmpty()) {
      hidden(
          "Not shown: history records no ε"
              + (fields.isEmpty()
                  ? " (this fedlake has no differential privacy)."
                  : ": differential privacy was off in the rounds shown."));
      return;
    }
    html.append(Svg.lineChart("plot-epsilon", "round", "ε", lines, List.of(), 0, 0, 240));
    table(new String[] {"round", "cluster", "field", "epsilon"}, body);
  }
}
