package fedlake.jobs.bench;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.strategy.Aggregate;
import fedlake.core.strategy.Fold;
import fedlake.core.strategy.RobustSettings;
import fedlake.core.strategy.RobustStrategy;
import fedlake.core.strategy.Strategies;
import fedlake.core.strategy.Strategy;
import fedlake.core.strategy.StrategySettings;
import fedlake.core.strategy.UpdateParameters;
import fedlake.schema.Model;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * {@code fedlake bench robust}: a robust rule over K in-memory updates of P parameters (the round
 * job's finish: norms, clipping and weight caps if set, the rule, the wrapped FedAvg step) against
 * a floor measured in the same run: a plain loop computing the unweighted mean of the same K x P
 * floats in double. Checks the result against a straightforward reference (sort every coordinate).
 */
public final class RobustBench {
  static final CommandLine COMMAND =
      CommandLine.of(
              "bench robust",
              "usage: fedlake bench robust [--updates 100] [--parameters 1000000] [--rule trimmed-mean] [--attacker-fraction 0.2] [--repeats 5]")
          .value("updates", "K", "in-memory updates (default 100)")
          .value("parameters", "P", "parameters an update (default 1000000)")
          .value("rule", "RULE", "the robust rule (default trimmed-mean)")
          .value("attacker-fraction", "F", "the rule's assumed share of attackers (default 0.2)")
          .value("repeats", "N", "timed runs; the best counts (default 5)");

  public static final String USAGE = COMMAND.usage();

  private RobustBench() {}

  public static int run(String[] argv, PrintStream out) {
    Args args = COMMAND.parse(argv);
    int k = args.integer("updates", 100);
    int p = args.integer("parameters", 1_000_000);
    RobustSettings.Rule rule = RobustSettings.Rule.of(args.string("rule", "trimmed-mean"));
    double fraction = args.number("attacker-fraction", 0.2);
    int repeats = args.integer("repeats", 5);
    if (k < 1 || p < 2 || repeats < 1) {
      throw new IllegalArgumentException(
          "bench robust: --updates, --parameters and --repeats must be positive, got "
              + k
              + ", "
              + p
              + ", "
              + repeats);
    }
    // a head of p - 1 weights (p - 1 classes x 1 dimension) and p - 1 biases would double p: use
    // a one-class-by-(p - 1)-dimension head plus its one bias, exactly p parameters
    Model base =
        Models.initialHead(
            new Head(p - 1, 1, 10f, new float[p - 1], new float[1]), 0, "bench", false, 0L);
    Random random = new Random(42);
    float[][] rows = new float[k][p];
    for (float[] row : rows) {
      for (int j = 0; j < p; j++) {
        row[j] = (float) (0.01 * random.nextGaussian());
      }
    }
    out.printf(
        "bench robust: %s (f %s) over %d updates x %,d parameters (%.0f MB of floats), best of %d%n",
        rule.id(), fraction, k, p, 4.0 * k * p / 1e6, repeats);

    Strategy strategy =
        RobustStrategy.wrap(
            Strategies.named("fedavg"), new RobustSettings(rule, fraction, 0, 0, 0));
    StrategySettings settings = StrategySettings.of(strategy, Map.of());
    Fold fold = strategy.newFold(base, settings);
    for (int i = 0; i < k; i++) {
      fold.add(new UpdateParameters(String.format("site-%05d", i), 100, 1, rows[i], new float[0]));
    }

    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long floorBest = Long.MAX_VALUE;
    long ruleBest = Long.MAX_VALUE;
    long ruleCpu = Long.MAX_VALUE;
    float[] floorMean = null;
    Aggregate aggregate = null;
    for (int r = 0; r <= repeats; r++) { // the first of each is a warm-up
      long t0 = System.nanoTime();
      floorMean = floor(rows);
      long t1 = System.nanoTime();
      long c1 = os.getProcessCpuTime();
      aggregate = strategy.finish(base, fold, settings);
      long t2 = System.nanoTime();
      long c2 = os.getProcessCpuTime();
      if (r > 0) {
        floorBest = Math.min(floorBest, t1 - t0);
        ruleBest = Math.min(ruleBest, t2 - t1);
        ruleCpu = Math.min(ruleCpu, c2 - c1);
      }
    }
    double maxDiff = 0;
    if (rule == RobustSettings.Rule.TRIMMED_MEAN || rule == RobustSettings.Rule.MEDIAN) {
      int trim = rule == RobustSettings.Rule.MEDIAN ? -1 : (int) Math.floor(fraction * k + 1e-9);
      float[] reference = reference(rows, trim);
      for (int j = 0; j < p; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(reference[j] - aggregate.parameters()[j]));
      }
    }
    out.printf("floor (plain mean of the same floats, one thread): %.3f s%n", floorBest / 1e9);
    out.printf(
        "%s (the round job's finish, %d threads): %.3f s (%.3f s of CPU)%n",
        rule.id(), Runtime.getRuntime().availableProcessors(), ruleBest / 1e9, ruleCpu / 1e9);
    out.printf(
        "ratio %.2f; max |difference| from a sort-every-coordinate reference %s%n",
        (double) ruleBest / floorBest, maxDiff);
    out.printf("(floor checksum %s)%n", floorMean[0]);
    return 0;
  }

  /** The unweighted mean of every coordinate, in double, row by row. */
  private static float[] floor(float[][] rows) {
    int p = rows[0].length;
    double[] sum = new double[p];
    for (float[] row : rows) {
      for (int j = 0; j < p; j++) {
        sum[j] += row[j];
      }
    }
    float[] mean = new float[p];
    for (int j = 0; j < p; j++) {
      mean[j] = (float) (sum[j] / rows.length);
    }
    return mean;
  }

  /** Sorts every coordinate's values; trim -1 for the median. */
  private static float[] reference(float[][] rows, int trim) {
    int k = rows.length;
    float[] out = new float[rows[0].length];
    float[] column = new float[k];
    for (int j = 0; j < out.length; j++) {
      for (int i = 0; i < k; i++) {
        column[i] = rows[i][j];
      }
      Arrays.sort(column);
      if (trim < 0) {
        out[j] =
            k % 2 == 1 ? column[k / 2] : (float) (((double) column[k / 2 - 1] + column[k / 2]) / 2);
      } else {
        double s = 0;
        for (int i = trim; i < k - trim; i++) {
          s += column[i];
        }
        out[j] = (float) (s / (k - 2 * trim));
      }
    }
    return out;
  }
}
