package fedlake.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.round.Evaluation;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.Store;
import fedlake.edge.EdgeTrain;
import fedlake.jobs.FedlakeMain;
import fedlake.schema.RoundHistory;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The round report of a small real federation (edge runner, round job, a rejected upload), written
 * by the CLI and rendered by headless Chromium: the plots are in the rendered DOM with the expected
 * number of points, bars and cells, their figures equal what {@code fedlake history} prints, and
 * the screenshot is not blank.
 */
class HtmlReportTest {
  private static final int ROUNDS = 3;

  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  private static Run fedlake(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        FedlakeMain.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Chromium on the PATH, or a failed test saying how to get it (never a silent skip). */
  private static String chromium() {
    for (String folder : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(folder, "chromium");
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    return fail(
        "chromium is not on the PATH: the report test renders the page in headless Chromium;"
            + " install Debian's package (apt-get install chromium)");
  }

  /** Runs Chromium headless on {@code page} with {@code mode}; returns what it printed. */
  private String render(Path page, String... mode) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--user-data-dir=" + Files.createTempDirectory(dir, "chromium-profile"),
                "--window-size=1200,1800"));
    command.addAll(List.of(mode));
    command.add(page.toUri().toString());
    Path output = Files.createTempFile(dir, "chromium", ".out");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(output.toFile())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("chromium did not finish within 90 s: " + command);
    }
    assertEquals(0, process.exitValue(), "chromium exit code: " + command);
    return Files.readString(output);
  }

  /** The rendered SVG element with {@code id}. */
  private static String svg(String dom, String id) {
    int start = dom.indexOf("id=\"" + id + "\"");
    assertTrue(start >= 0, id + " is not in the rendered page");
    int end = dom.indexOf("</svg>", start);
    return dom.substring(start, end);
  }

  private static int count(String text, String pattern) {
    Matcher m = Pattern.compile(pattern).matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  private Store federation() throws IOException {
    String uri = dir.resolve("store").toUri().toString();
    Store store = Store.open(uri);
    new Federation(store).dimension(6).classes(3).strategy("fedavg").execute();
    GaussianClasses classes = new GaussianClasses(3, 6, 0.6, 7);
    Evaluation.register(store, classes.sample(10, 99, "evaluation"));
    List<Dataset> sites = List.of(classes.sample(8, 1, "a"), classes.sample(8, 2, "b"));
    for (int round = 0; round < ROUNDS; round++) {
      for (int s = 0; s < sites.size(); s++) {
        new EdgeTrain(store, "site-" + (char) ('a' + s), sites.get(s))
            .holdout(0.25)
            .stateDir(dir.resolve("state"))
            .execute();
      }
      if (round == 1) { // a broken upload: rejected, and the round still publishes
        Path broken = Path.of(store.updatesDir(1).toUri()).resolve("site-x--0001.parquet");
        Files.writeString(broken, "not a parquet file");
      }
      RoundResult result = new RoundJob(store).execute();
      assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    }
    return store;
  }

  @Test
  void theReportRendersEveryPlotWithTheFiguresHistoryPrints() throws Exception {
    Store store = federation();
    String uri = store.root().toString();
    Path out = dir.resolve("report");
    Run report = fedlake("report", "--store", uri, "--out", out.toString());
    assertEquals(0, report.code(), report.err());
    Path page = out.resolve("index.html");
    assertEquals("Report written to " + page.toAbsolutePath() + "\n", report.out());
    String html = Files.readString(page);
    assertFalse(html.contains("<script"), "no script");
    assertFalse(html.matches("(?s).*(src|href)=\"https?:.*"), "nothing fetched");

    String dom = render(page, "--dump-dom");
    List<RoundHistory> history = store.readHistory();
    assertEquals(ROUNDS, history.size());

    String accuracy = svg(dom, "plot-accuracy");
    assertEquals(ROUNDS, count(accuracy, "class=\"point\" data-series=\"test\""));
    assertEquals(ROUNDS, count(accuracy, "class=\"point\" data-series=\"sites: median\""));
    assertEquals(1, count(accuracy, "class=\"band\""));
    String perClass = svg(dom, "plot-per-class");
    long drawn = history.get(ROUNDS - 1).getPerClassAccuracy().stream().filter(v -> v > 0).count();
    assertEquals(drawn, count(perClass, "class=\"bar\""));
    String participation = svg(dom, "plot-participation");
    assertEquals(ROUNDS, count(participation, "class=\"bar\" data-series=\"aggregated\""));
    assertEquals(1, count(participation, "class=\"bar\" data-series=\"rejected\""));
    assertTrue(participation.contains("<title>round 1: 1 file(s) rejected</title>"), participation);
    String reasons = svg(dom, "plot-reasons");
    assertEquals(1, count(reasons, "class=\"bar\""));
    assertTrue(reasons.contains("not a readable Parquet file"), reasons);
    assertEquals(3 * ROUNDS, count(svg(dom, "plot-norms"), "class=\"point\""));
    String sites = svg(dom, "plot-sites");
    assertEquals(2 * ROUNDS + 1, count(sites, "class=\"cell\""));
    assertEquals(1, count(sites, "data-status=\"rejected\""));
    assertTrue(sites.contains("<title>site-x, round 1: rejected</title>"), sites);
    assertTrue(dom.contains("Not shown: the federation is not clustered"), "clusters hidden");
    assertTrue(dom.contains("Not shown: history records no ε"), "epsilon hidden");

    // the figures equal what fedlake history prints
    Run printed = fedlake("history", "--store", uri);
    assertEquals(0, printed.code(), printed.err());
    List<String> lines = printed.out().lines().toList();
    int figures =
        lines.indexOf(
            lines.stream().filter(l -> l.startsWith("Accuracy and")).findFirst().orElseThrow());
    for (int r = 0; r < ROUNDS; r++) {
      String[] cells = lines.get(figures + 2 + r).trim().split("\\s+");
      assertEquals(Integer.toString(r), cells[0], printed.out());
      String test = cells[2];
      String median = cells[6];
      String normMean = cells[10];
      assertTrue(test.matches("\\d\\.\\d{4}"), printed.out());
      assertTrue(
          accuracy.contains(
              "<title>round " + r + ", cluster 0: test accuracy " + test + "</title>"),
          "round " + r + " test accuracy " + test + " in the plot");
      assertTrue(
          accuracy.contains(
              "<title>round " + r + ", cluster 0: site median " + median + "</title>"),
          "round " + r + " site median " + median);
      assertTrue(
          dom.contains("<title>round " + r + ", cluster 0: mean norm " + normMean + "</title>"),
          "round " + r + " mean norm " + normMean);
      assertTrue(
          dom.contains(
              "<tr><td>" + r + "</td><td>0</td><td>" + test + "</td><td>30</td><td>-</td>"),
          "round " + r + " in the accuracy table");
      assertEquals(
          String.format(java.util.Locale.ROOT, "%.4f", history.get(r).getTestAccuracy()), test);
    }

    // one round's evaluation as the Airflow task prints it
    Run shown = fedlake("evaluation", "show", "--store", uri, "--round", "1");
    assertEquals(0, shown.code(), shown.err());
    RoundHistory one = history.get(1);
    assertTrue(
        shown
            .out()
            .contains(
                "Round 1, cluster 0: model "
                    + one.getPublishedModelVersion()
                    + ": test accuracy "
                    + Figures.accuracy(one.getTestAccuracy())
                    + " on 30 rows; sites' holdout accuracy min "
                    + Figures.accuracy(one.getSiteAccuracyMin())),
        shown.out());
    for (int c = 0; c < 3; c++) {
      assertTrue(
          shown
              .out()
              .contains(
                  String.format(
                      "  %5d %9s%n", c, Figures.accuracy(one.getPerClassAccuracy().get(c)))),
          shown.out());
    }
    // --round-from leaves earlier rounds out
    Run later =
        fedlake(
            "report",
            "--store",
            uri,
            "--out",
            dir.resolve("later").toString(),
            "--round-from",
            "2");
    assertEquals(0, later.code(), later.err());
    String laterPage = Files.readString(dir.resolve("later/index.html"));
    assertEquals(1, count(svg(laterPage, "plot-participation"), "data-series=\"aggregated\""));
    assertTrue(laterPage.contains("Not shown: no update file was rejected in the rounds shown."));

    Path png = dir.resolve("report.png");
    render(page, "--screenshot=" + png);
    BufferedImage image = ImageIO.read(png.toFile());
    assertEquals(1200, image.getWidth());
    long coloured = 0;
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 2) {
      for (int x = 0; x < image.getWidth(); x += 2) {
        int rgb = image.getRGB(x, y) & 0xFFFFFF;
        colours.add(rgb);
        if (rgb != 0xFFFFFF) {
          coloured++;
        }
      }
    }
    long sampled = (long) (image.getHeight() / 2) * (image.getWidth() / 2);
    assertTrue(coloured > sampled / 50, "screenshot mostly blank: " + coloured + " of " + sampled);
    assertTrue(colours.contains(0x2ca02c), "the green of aggregated updates is drawn");
    assertTrue(colours.contains(0xd62728), "the red of the rejected upload is drawn");
  }

  @Test
  void aFolderWithoutAFederationAndBadOptionsAreRefusedByName() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    Run none = fedlake("report", "--store", empty.toString(), "--out", dir.resolve("o").toString());
    assertEquals(2, none.code());
    assertEquals(
        "fedlake report: Cannot report on "
            + Store.open(empty.toString()).root()
            + ": it holds no federation (no model pointer _LATEST and no round history)\n",
        none.err());
    Run missing = fedlake("report", "--store", empty.toString());
    assertEquals(2, missing.code());
    assertEquals("fedlake report: report: missing required option --out\n", missing.err());
    Path file = Files.writeString(dir.resolve("taken"), "x");
    Store store = Store.open(dir.resolve("s").toUri().toString());
    new Federation(store).dimension(2).classes(2).execute();
    Run taken = fedlake("report", "--store", store.root().toString(), "--out", file.toString());
    assertEquals(2, taken.code());
    assertEquals(
        "fedlake report: report: --out " + file + " is a file, not a folder\n", taken.err());
    Dataset rows = new GaussianClasses(2, 2, 0.3, 3).sample(4, 4, "rows");
    Path parquet = dir.resolve("eval.parquet");
    fedlake.core.data.DatasetFiles.writeParquet(
        rows,
        new org.apache.hadoop.fs.Path(parquet.toUri()),
        new org.apache.hadoop.conf.Configuration(),
        "e-");
    Run set =
        fedlake(
            "evaluation", "set", "--store", store.root().toString(), "--data", parquet.toString());
    assertEquals(0, set.code(), set.err());
    assertTrue(
        set.out()
            .startsWith(
                "Registered "
                    + Evaluation.registeredFile(store).orElseThrow()
                    + " as the evaluation set of "),
        set.out());
    assertTrue(set.out().contains(": 8 rows of 2 classes; every round from round 0 on"), set.out());
    Run evaluation =
        fedlake(
            "evaluation",
            "set",
            "--store",
            store.root().toString(),
            "--data",
            dir.resolve("nothing.parquet").toString());
    assertEquals(2, evaluation.code());
    assertEquals(
        "fedlake evaluation: " + dir.resolve("nothing.parquet") + ": no such file or directory\n",
        evaluation.err());
  }
}
