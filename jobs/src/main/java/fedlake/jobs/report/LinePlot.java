package fedlake.jobs.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** A small PNG line chart (headless Java2D): one or more series over rounds. */
public final class LinePlot {
  private static final Color[] COLOURS = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)
  };
  private static final int WIDTH = 800;
  private static final int HEIGHT = 480;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 56;
  private static final int BOTTOM = 50;

  /** A named series of (x, y) points. */
  public record Series(String name, double[] x, double[] y) {}

  private LinePlot() {}

  public static void write(
      Path file, String title, String xLabel, String yLabel, List<Series> series) {
    double minX = Double.POSITIVE_INFINITY;
    double maxX = Double.NEGATIVE_INFINITY;
    double minY = Double.POSITIVE_INFINITY;
    double maxY = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (Double.isFinite(s.y()[i])) {
          minX = Math.min(minX, s.x()[i]);
          maxX = Math.max(maxX, s.x()[i]);
          minY = Math.min(minY, s.y()[i]);
          maxY = Math.max(maxY, s.y()[i]);
        }
      }
    }
    if (!(maxX > minX)) {
      maxX = minX + 1;
    }
    if (!(maxY > minY)) {
      maxY = minY + 1e-3;
    }
    double pad = (maxY - minY) * 0.05;
    minY -= pad;
    maxY += pad;
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, WIDTH, HEIGHT);
    int plotWidth = WIDTH - LEFT - RIGHT;
    int plotHeight = HEIGHT - TOP - BOTTOM;
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (int t = 0; t <= 5; t++) {
      double value = minY + (maxY - minY) * t / 5;
      int y = TOP + plotHeight - (int) Math.round(plotHeight * t / 5.0);
      g.setColor(new Color(0xe6e6e6));
      g.drawLine(LEFT, y, LEFT + plotWidth, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(String.format(Locale.ROOT, "%.3f", value), 8, y + 4);
    }
    int ticks = (int) Math.min(10, maxX - minX);
    for (int t = 0; t <= ticks; t++) {
      double value = minX + (maxX - minX) * t / Math.max(1, ticks);
      int x = LEFT + (int) Math.round(plotWidth * (value - minX) / (maxX - minX));
      g.drawString(String.format(Locale.ROOT, "%.0f", value), x - 6, TOP + plotHeight + 18);
    }
    g.setColor(Color.BLACK);
    g.drawRect(LEFT, TOP, plotWidth, plotHeight);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    g.drawString(title, LEFT, 22);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.drawString(xLabel, LEFT + plotWidth / 2 - 20, HEIGHT - 12);
    g.drawString(yLabel, 8, TOP - 12);
    g.setStroke(new BasicStroke(2f));
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      g.setColor(COLOURS[k % COLOURS.length]);
      int previousX = -1;
      int previousY = -1;
      for (int i = 0; i < s.x().length; i++) {
        if (!Double.isFinite(s.y()[i])) {
          continue;
        }
        int x = LEFT + (int) Math.round(plotWidth * (s.x()[i] - minX) / (maxX - minX));
        int y = TOP + plotHeight - (int) Math.round(plotHeight * (s.y()[i] - minY) / (maxY - minY));
        if (previousX >= 0) {
          g.drawLine(previousX, previousY, x, y);
        }
        g.fillOval(x - 3, y - 3, 6, 6);
        previousX = x;
        previousY = y;
      }
      g.drawString(
          s.name(), LEFT + plotWidth - 200, TOP + plotHeight - 12 - 16 * (series.size() - 1 - k));
    }
    g.dispose();
    try {
      if (file.toAbsolutePath().getParent() != null) {
        Files.createDirectories(file.toAbsolutePath().getParent());
      }
      ImageIO.write(image, "png", file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write plot " + file, e);
    }
  }
}
