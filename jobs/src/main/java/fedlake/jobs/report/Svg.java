package fedlake.jobs.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Inline SVG charts for the HTML report: lines with bands, bars, stacked bars, horizontal bars and
 * a status grid. Every drawn datum is an element with a class ({@code point}, {@code bar}, {@code
 * cell}) and a {@code <title>} tooltip holding the figure as the page's tables print it, so that a
 * browser (and a test reading its DOM) can count and read them.
 */
final class Svg {
  static final int WIDTH = 960;
  private static final int LEFT = 64;
  private static final int RIGHT = 150;
  private static final int TOP = 16;
  private static final int BOTTOM = 40;

  private Svg() {}

  /** A line of (x, y) points; null y values are gaps. */
  record Line(String name, String colour, boolean dashed, double[] x, Double[] y, String[] tips) {}

  /** A shaded band between two curves at the same x values (null: no band there). */
  record Band(String name, String colour, double[] x, Double[] low, Double[] high) {}

  /** One layer of stacked bars (or one series of plain bars). */
  record Layer(String name, String colour, double[] values, String[] tips) {}

  static String lineChart(
      String id,
      String xLabel,
      String yLabel,
      List<Line> lines,
      List<Band> bands,
      double yLow,
      double yHigh,
      int height) {
    double xMin = Double.POSITIVE_INFINITY;
    double xMax = Double.NEGATIVE_INFINITY;
    double yMin = yLow;
    double yMax = yHigh;
    for (Line l : lines) {
      for (int i = 0; i < l.x().length; i++) {
        if (l.y()[i] != null) {
          xMin = Math.min(xMin, l.x()[i]);
          xMax = Math.max(xMax, l.x()[i]);
          yMin = Math.min(yMin, l.y()[i]);
          yMax = Math.max(yMax, l.y()[i]);
        }
      }
    }
    for (Band b : bands) {
      for (int i = 0; i < b.x().length; i++) {
        if (b.low()[i] != null && b.high()[i] != null) {
          xMin = Math.min(xMin, b.x()[i]);
          xMax = Math.max(xMax, b.x()[i]);
          yMin = Math.min(yMin, b.low()[i]);
          yMax = Math.max(yMax, b.high()[i]);
        }
      }
    }
    if (!(xMax > xMin)) {
      xMax = xMin + 1;
    }
    if (!(yMax > yMin)) {
      yMax = yMin + 1;
    }
    Frame f = new Frame(id, height, xMin, xMax, yMin, yMax);
    StringBuilder svg = f.open(xLabel, yLabel, true);
    for (Band b : bands) {
      StringBuilder upper = new StringBuilder();
      StringBuilder lower = new StringBuilder();
      int drawn = 0;
      for (int i = 0; i < b.x().length; i++) {
        if (b.low()[i] == null || b.high()[i] == null) {
          continue;
        }
        upper.append(drawn == 0 ? "" : " ").append(f.px(b.x()[i])).append(',');
        upper.append(f.py(b.high()[i]));
        lower.insert(0, " " + f.px(b.x()[i]) + "," + f.py(b.low()[i]));
        drawn++;
      }
      if (drawn > 0) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<polygon class=\"band\" data-series=\"%s\" points=\"%s%s\" fill=\"%s\""
                    + " fill-opacity=\"0.18\" stroke=\"none\"><title>%s</title></polygon>%n",
                Html.escape(b.name()),
                upper,
                lower,
                b.colour(),
                Html.escape(b.name())));
      }
    }
    for (Line l : lines) {
      StringBuilder path = new StringBuilder();
      boolean pen = false;
      for (int i = 0; i < l.x().length; i++) {
        if (l.y()[i] == null) {
          pen = false;
          continue;
        }
        path.append(pen ? " L" : " M").append(f.px(l.x()[i])).append(',');
        path.append(f.py(l.y()[i]));
        pen = true;
      }
      svg.append(
          String.format(
              Locale.ROOT,
              "<path class=\"line\" data-series=\"%s\" d=\"%s\" fill=\"none\" stroke=\"%s\""
                  + " stroke-width=\"2\"%s/>%n",
              Html.escape(l.name()),
              path.toString().trim(),
              l.colour(),
              l.dashed() ? " stroke-dasharray=\"5,4\"" : ""));
      for (int i = 0; i < l.x().length; i++) {
        if (l.y()[i] == null) {
          continue;
        }
        svg.append(
            String.format(
                Locale.ROOT,
                "<circle class=\"point\" data-series=\"%s\" cx=\"%s\" cy=\"%s\" r=\"3\""
                    + " fill=\"%s\"><title>%s</title></circle>%n",
                Html.escape(l.name()),
                f.px(l.x()[i]),
                f.py(l.y()[i]),
                l.colour(),
                Html.escape(l.tips()[i])));
      }
    }
    List<String[]> legend = new ArrayList<>();
    for (Band b : bands) {
      legend.add(new String[] {b.name(), b.colour(), "band"});
    }
    for (Line l : lines) {
      legend.add(new String[] {l.name(), l.colour(), l.dashed() ? "dashed" : "line"});
    }
    return f.close(svg, legend);
  }

  /**
   * Vertical bars at categories {@code labels} stacked layer on layer (one layer: plain bars); NaN
   * values draw nothing.
   */
  static String stackedBars(
      String id, String xLabel, String yLabel, String[] labels, List<Layer> layers, int height) {
    double top = 0;
    for (int i = 0; i < labels.length; i++) {
      double sum = 0;
      for (Layer layer : layers) {
        double v = layer.values()[i];
        sum += Double.isFinite(v) ? v : 0;
      }
      top = Math.max(top, sum);
    }
    if (top <= 0) {
      top = 1;
    }
    Frame f = new Frame(id, height, -0.5, labels.length - 0.5, 0, top);
    StringBuilder svg = f.open(xLabel, yLabel, false);
    double slot = (double) (WIDTH - LEFT - RIGHT) / labels.length;
    double width = Math.max(1, slot * 0.8);
    int every = Math.max(1, (int) Math.ceil(labels.length / 30.0));
    for (int i = 0; i < labels.length; i++) {
      double base = 0;
      for (Layer layer : layers) {
        double v = layer.values()[i];
        if (!Double.isFinite(v) || v <= 0) {
          continue;
        }
        double y0 = f.yValue(base);
        double y1 = f.yValue(base + v);
        svg.append(
            String.format(
                Locale.ROOT,
                "<rect class=\"bar\" data-series=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\""
                    + " height=\"%.1f\" fill=\"%s\"><title>%s</title></rect>%n",
                Html.escape(layer.name()),
                f.xValue(i) - width / 2,
                y1,
                width,
                Math.max(0.5, y0 - y1),
                layer.colour(),
                Html.escape(layer.tips()[i])));
        base += v;
      }
      if (i % every == 0) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>%n",
                f.xValue(i),
                height - BOTTOM + 14,
                Html.escape(labels[i])));
      }
    }
    List<String[]> legend = new ArrayList<>();
    if (layers.size() > 1) {
      for (Layer layer : layers) {
        legend.add(new String[] {layer.name(), layer.colour(), "box"});
      }
    }
    return f.close(svg, legend);
  }

  /** Horizontal bars, one a label, longest first as given. */
  static String horizontalBars(String id, String[] labels, double[] values, String[] tips) {
    int row = 22;
    int labelWidth = 520;
    int height = TOP + row * labels.length + 10;
    double max = 0;
    for (double v : values) {
      max = Math.max(max, v);
    }
    if (max <= 0) {
      max = 1;
    }
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg class=\"plot\" id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\""
                + " height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">%n",
            id,
            WIDTH,
            height,
            WIDTH,
            height));
    double span = WIDTH - labelWidth - 80;
    for (int i = 0; i < labels.length; i++) {
      double y = TOP + i * row;
      double w = Math.max(1, values[i] / max * span);
      String label = labels[i].length() > 80 ? labels[i].substring(0, 77) + "..." : labels[i];
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">%s</text>%n",
              labelWidth - 8,
              y + 14,
              Html.escape(label)));
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect class=\"bar\" data-series=\"reason\" x=\"%d\" y=\"%.1f\" width=\"%.1f\""
                  + " height=\"%d\" fill=\"#d62728\"><title>%s</title></rect>%n",
              labelWidth,
              y + 2,
              w,
              row - 6,
              Html.escape(tips[i])));
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%s</text>%n",
              labelWidth + w + 6,
              y + 14,
              Html.escape(Figures.count(values[i]))));
    }
    return svg.append("</svg>\n").toString();
  }

  /** A grid of cells, one a row label and column, coloured by status (null: nothing drawn). */
  static String grid(
      String id,
      String[] rows,
      String[] columns,
      String[][] status,
      java.util.Map<String, String> colours,
      String[][] tips) {
    int labelWidth = 130;
    int cell = Math.max(6, Math.min(22, (WIDTH - labelWidth - 20) / Math.max(1, columns.length)));
    int rowHeight = Math.max(8, Math.min(16, cell));
    int height = TOP + rowHeight * rows.length + 34;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg class=\"plot\" id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\""
                + " height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">%n",
            id,
            WIDTH,
            height,
            WIDTH,
            height));
    int every = Math.max(1, (int) Math.ceil(columns.length / 30.0));
    for (int c = 0; c < columns.length; c++) {
      if (c % every == 0) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s</text>%n",
                labelWidth + c * cell + cell / 2.0,
                TOP - 4,
                Html.escape(columns[c])));
      }
    }
    int labelEvery = rowHeight >= 11 ? 1 : (int) Math.ceil(11.0 / rowHeight);
    for (int r = 0; r < rows.length; r++) {
      double y = TOP + r * rowHeight;
      if (r % labelEvery == 0) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<text x=\"%d\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"end\">%s</text>%n",
                labelWidth - 6,
                y + rowHeight - 3,
                Math.min(12, rowHeight),
                Html.escape(rows[r])));
      }
      for (int c = 0; c < columns.length; c++) {
        String s = status[r][c];
        if (s == null) {
          continue;
        }
        svg.append(
            String.format(
                Locale.ROOT,
                "<rect class=\"cell\" data-status=\"%s\" x=\"%d\" y=\"%.1f\" width=\"%d\""
                    + " height=\"%d\" fill=\"%s\"><title>%s</title></rect>%n",
                Html.escape(s),
                labelWidth + c * cell,
                y,
                cell - 1,
                rowHeight - 1,
                colours.getOrDefault(s, "#999999"),
                Html.escape(tips[r][c])));
      }
    }
    int x = labelWidth;
    double y = TOP + rowHeight * rows.length + 14;
    for (var e : colours.entrySet()) {
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                  + "<text x=\"%d\" y=\"%.1f\" font-size=\"11\">%s</text>%n",
              x,
              y,
              e.getValue(),
              x + 14,
              y + 9,
              Html.escape(e.getKey())));
      x += 24 + 7 * e.getKey().length();
    }
    return svg.append("</svg>\n").toString();
  }

  /** The plotting area of one chart: scales, axes with ticks and the legend at the right. */
  private static final class Frame {
    private final String id;
    private final int height;
    private final double xMin;
    private final double xMax;
    private final double yMin;
    private final double yMax;
    private final double[] yTicks;

    Frame(String id, int height, double xMin, double xMax, double yMin, double yMax) {
      this.id = id;
      this.height = height;
      this.xMin = xMin;
      this.xMax = xMax;
      this.yTicks = ticks(yMin, yMax, 5);
      this.yMin = Math.min(yMin, yTicks[0]);
      this.yMax = Math.max(yMax, yTicks[yTicks.length - 1]);
    }

    double xValue(double x) {
      return LEFT + (x - xMin) / (xMax - xMin) * (WIDTH - LEFT - RIGHT);
    }

    double yValue(double y) {
      return TOP + (yMax - y) / (yMax - yMin) * (height - TOP - BOTTOM);
    }

    String px(double x) {
      return String.format(Locale.ROOT, "%.1f", xValue(x));
    }

    String py(double y) {
      return String.format(Locale.ROOT, "%.1f", yValue(y));
    }

    StringBuilder open(String xLabel, String yLabel, boolean xTicks) {
      StringBuilder svg = new StringBuilder();
      svg.append(
          String.format(
              Locale.ROOT,
              "<svg class=\"plot\" id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\""
                  + " height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">%n",
              id,
              WIDTH,
              height,
              WIDTH,
              height));
      int plotRight = WIDTH - RIGHT;
      int plotBottom = height - BOTTOM;
      for (double t : yTicks) {
        double y = yValue(t);
        svg.append(
            String.format(
                Locale.ROOT,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>%n",
                LEFT,
                plotRight,
                y,
                y,
                LEFT - 6,
                y + 4,
                tickLabel(t)));
      }
      if (xTicks) {
        for (double t : ticks(xMin, xMax, 10)) {
          if (t < xMin - 1e-9 || t > xMax + 1e-9) {
            continue;
          }
          svg.append(
              String.format(
                  Locale.ROOT,
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#999\"/>"
                      + "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>%n",
                  xValue(t),
                  xValue(t),
                  plotBottom,
                  plotBottom + 4,
                  xValue(t),
                  plotBottom + 16,
                  tickLabel(t)));
        }
      }
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#666\"/>"
                  + "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#666\"/>%n",
              LEFT,
              plotRight,
              plotBottom,
              plotBottom,
              LEFT,
              LEFT,
              TOP,
              plotBottom));
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%s</text>%n",
              (LEFT + plotRight) / 2,
              height - 6,
              Html.escape(xLabel)));
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"14\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\""
                  + " transform=\"rotate(-90 14 %d)\">%s</text>%n",
              (TOP + plotBottom) / 2,
              (TOP + plotBottom) / 2,
              Html.escape(yLabel)));
      return svg;
    }

    String close(StringBuilder svg, List<String[]> legend) {
      int x = WIDTH - RIGHT + 12;
      int y = TOP + 8;
      for (String[] entry : legend) {
        String mark =
            switch (entry[2]) {
              case "band", "box" ->
                  String.format(
                      Locale.ROOT,
                      "<rect x=\"%d\" y=\"%d\" width=\"18\" height=\"10\" fill=\"%s\"%s/>",
                      x,
                      y - 5,
                      entry[1],
                      entry[2].equals("band") ? " fill-opacity=\"0.25\"" : "");
              default ->
                  String.format(
                      Locale.ROOT,
                      "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\""
                          + " stroke-width=\"2\"%s/>",
                      x,
                      x + 18,
                      y,
                      y,
                      entry[1],
                      entry[2].equals("dashed") ? " stroke-dasharray=\"5,4\"" : "");
            };
        svg.append(mark)
            .append(
                String.format(
                    Locale.ROOT,
                    "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>%n",
                    x + 24,
                    y + 4,
                    Html.escape(entry[0])));
        y += 18;
      }
      return svg.append("</svg>\n").toString();
    }
  }

  /** About {@code count} round tick values covering [low, high]. */
  static double[] ticks(double low, double high, int count) {
    double span = high - low;
    double raw = span / count;
    double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = magnitude;
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * magnitude >= raw) {
        step = m * magnitude;
        break;
      }
    }
    double first = Math.floor(low / step + 1e-9) * step;
    double last = Math.ceil(high / step - 1e-9) * step;
    int n = (int) Math.round((last - first) / step) + 1;
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = first + i * step;
    }
    return out;
  }

  private static String tickLabel(double v) {
    if (Math.abs(v - Math.rint(v)) < 1e-9) {
      return Long.toString(Math.round(v));
    }
    String s = String.format(Locale.ROOT, "%.3f", v);
    return s.replaceAll("0+$", "");
  }
}
