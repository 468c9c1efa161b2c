package fedlake.jobs.bench;

import fedlake.core.cli.CommandLine;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * {@code fedlake bench round|train|robust|cluster}: each benchmark prints its time against a floor
 * measured in the same run; none asserts anything.
 */
public final class Bench {
  public static final String USAGE =
      RoundBench.USAGE
          + "\n"
          + RobustBench.USAGE
          + "\n"
          + TrainBench.USAGE
          + "\n"
          + ClusterBench.COMMAND.usage();

  /** The command lines of the benchmarks. */
  public static final CommandLine CLUSTER = ClusterBench.COMMAND;

  public static final CommandLine ROUND = RoundBench.COMMAND;

  public static final CommandLine ROBUST = RobustBench.COMMAND;
  public static final CommandLine TRAIN = TrainBench.COMMAND;

  private Bench() {}

  public static int run(String[] argv, PrintStream out) {
    String[] rest = argv.length == 0 ? argv : Arrays.copyOfRange(argv, 1, argv.length);
    return switch (argv.length == 0 ? "" : argv[0]) {
      case "round" -> RoundBench.run(rest, out);
      case "train" -> TrainBench.run(rest, out);
      case "robust" -> RobustBench.run(rest, out);
      case "cluster" -> ClusterBench.run(rest, out);
      default -> throw new IllegalArgumentException(USAGE);
    };
  }
}
