package fedlake.jobs;

import fedlake.core.cli.CommandLine;
import fedlake.core.store.StoreConfig;
import fedlake.edge.EdgeMain;
import fedlake.jobs.actions.Synthesize;
import fedlake.jobs.bench.Bench;
import fedlake.jobs.cli.ClusterCommands;
import fedlake.jobs.cli.Commands;
import fedlake.jobs.cli.EmbedImages;
import fedlake.jobs.cli.ReportCommands;
import fedlake.jobs.cli.RoundCommands;
import fedlake.jobs.cli.SiteCommands;
import fedlake.jobs.cli.SpecCommands;
import fedlake.jobs.simulation.ClusteredSimulation;
import fedlake.jobs.simulation.Demo;
import fedlake.jobs.simulation.Simulate;
import fedlake.jobs.spark.ClusterSubmit;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Entry point of {@code bin/fedlake} and of the spark-submit jar. Exit codes: 0 done, 1 the store
 * could not be read or written, or an unexpected failure, 2 bad usage or input, 3 a round with no
 * valid update (or too few before its deadline), 4 a round job that lost the race to another job on
 * the same round (it wrote nothing), 5 a round not ready yet ({@code round-ready}). {@code
 * --outcome URI} (any command) also writes the exit code to a file, for standalone cluster deploy
 * mode where spark-submit does not report it; {@code --deploy-mode cluster} submits the command
 * that way and exits with the code its driver recorded ({@link ClusterSubmit}, docs/cluster.md).
 */
public final class FedlakeMain {
  static final String USAGE =
      String.join(
          "\n",
          "usage: fedlake <command> [options]",
          "  demo                                   run a small federation end to end on a local store",
          "  init --store URI --dim D --classes C [--strategy S]   start a federation: spec version 1 and round-0 model",
          "  edge train --store URI --site ID --data PATH   train at a site and upload an update (no Spark)",
          "  round --store URI [--calibrate] [--master M [--deploy-mode cluster]]   aggregate the current round (Spark)",
          "  synthesize --source text|site-stats|images --per-class M --seed S   class-balanced synthetic embeddings (Spark)",
          "  history --store URI [--audit ROUND]    print the round history",
          "  evaluation set|show --store URI [--data PATH]   register the held-out evaluation set; show a round's evaluation",
          "  report --store URI --out DIR           write the round report: DIR/index.html, self-contained, with plots",
          "  round-ready --store URI [--round R]    exit 0 when the round may be aggregated, 5 when not yet (the DAG sensor)",
          "  current-round --store URI              print the current round number",
          "  spec show|set --store URI [options]    the federation spec: strategy, what sites do, limits (versioned)",
          "  site add|revoke|list --store URI ...   sites' signing keys (edge keygen makes them; docs/security.md)",
          "  simulate --data DIR --sites N --alpha A --rounds R --seed S   federated simulation on embeddings",
          "  simulate --data DIR1,DIR2,... --clusters auto|K   clustered FL: one model per cluster of similar sites",
          "  profiles --store URI                   build the current round's site profiles (Spark)",
          "  cluster --store URI [--algorithm kmeans|bisecting|gmm] [--k auto|K]   cluster the profiles (Spark MLlib)",
          "  bench robust [--rule trimmed-mean]     a robust rule over 100 x 1M parameters vs. a plain mean floor",
          "  embed-images --images DIR --model PATH_OR_URL --out FILE.parquet [--per-class M --seed S]   embed images per class (Spark, DJL)",
          "  bench cluster [--profiles 100000]      cluster job time and peak memory vs. a 10,000-profile reference",
          "Run 'fedlake <command> --help' for a command's options.");

  private FedlakeMain() {}

  public static void main(String[] args) {
    int code;
    ClusterSubmit.Outcome outcome = null;
    try {
      outcome = ClusterSubmit.Outcome.of(args);
    } catch (IllegalArgumentException e) {
      System.err.println("fedlake: " + e.getMessage());
      System.exit(2);
    }
    String[] rest = outcome.args();
    String command = rest.length == 0 ? "" : rest[0];
    if (ClusterSubmit.wanted(rest)) {
      // standalone cluster deploy mode: spark-submit runs the driver, its outcome file the code
      code =
          ClusterSubmit.run(
              command, Arrays.copyOfRange(rest, 1, rest.length), System.out, System.err);
    } else {
      code = run(rest, System.out, System.err);
    }
    System.out.flush();
    outcome.record(command, code, System.err);
    System.exit(code);
  }

  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("help")) {
      out.println(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String command = args[0];
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    if (Arrays.asList(rest).contains("--help")) {
      out.println(help(command));
      return 0;
    }
    try {
      return switch (command) {
        case "edge" -> EdgeMain.run(rest, out, err);
        case "init" -> Commands.init(rest, out);
        case "round" -> Commands.round(rest, out);
        case "history" -> Commands.history(rest, out);
        case "evaluation" -> ReportCommands.evaluation(rest, out);
        case "report" -> ReportCommands.report(rest, out);
        case "round-ready" -> RoundCommands.roundReady(rest, out, System::currentTimeMillis);
        case "current-round" -> RoundCommands.currentRound(rest, out);
        case "spec" -> SpecCommands.run(rest, out);
        case "site" -> SiteCommands.run(rest, out);
        case "synthesize" -> Synthesize.run(rest, out);
        case "simulate" ->
            ClusteredSimulation.wanted(rest)
                ? ClusteredSimulation.fromArgs(rest).progress(out).execute().exitCode()
                : Simulate.fromArgs(rest).progress(out).execute().exitCode();
        case "profiles" -> ClusterCommands.profiles(rest, out);
        case "cluster" -> ClusterCommands.cluster(rest, out);
        case "demo" -> Demo.fromArgs(rest, out).execute();
        case "bench" -> Bench.run(rest, out);
        case "embed-images" -> EmbedImages.run(rest, out);
        default -> {
          err.println("fedlake: unknown command '" + command + "'\n" + USAGE);
          yield 2;
        }
      };
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("fedlake " + command + ": " + e.getMessage());
      return 2;
    } catch (java.io.UncheckedIOException e) {
      err.println("fedlake " + command + ": " + StoreConfig.describeFailure(e));
      return 1;
    } catch (NoClassDefFoundError e) {
      String missing = String.valueOf(e.getMessage());
      if (!missing.startsWith("fedlake/encoder/") && !missing.startsWith("ai/djl/")) {
        throw e;
      }
      // the lean -spark.jar leaves the image encoder out (docs/cluster.md)
      err.println(
          "fedlake "
              + command
              + ": the image encoder is not on the class path (missing "
              + missing
              + "): submit fedlake-jobs-*-images.jar for the image jobs, not the -spark.jar");
      return 2;
    } catch (RuntimeException e) {
      err.println("fedlake " + command + ": unexpected failure");
      e.printStackTrace(err);
      return 1;
    }
  }

  private static String help(String command) {
    return switch (command) {
      case "edge" -> EdgeMain.USAGE;
      case "init" -> Commands.INIT.usage();
      case "round" -> Commands.ROUND.usage();
      case "synthesize" -> Synthesize.USAGE;
      case "round-ready" -> RoundCommands.ROUND_READY.usage();
      case "current-round" -> RoundCommands.CURRENT_ROUND.usage();
      case "spec" -> SpecCommands.USAGE;
      case "site" -> SiteCommands.USAGE;
      case "history" -> Commands.HISTORY.usage();
      case "evaluation" -> ReportCommands.EVALUATION_USAGE;
      case "report" -> ReportCommands.REPORT.usage();
      case "simulate" -> Simulate.USAGE + "\n\n" + ClusteredSimulation.USAGE;
      case "profiles" -> ClusterCommands.PROFILES.usage();
      case "cluster" -> ClusterCommands.CLUSTER.usage();
      case "demo" -> Demo.USAGE;
      case "bench" -> Bench.USAGE;
      case "embed-images" -> EmbedImages.USAGE;
      default -> USAGE;
    };
  }

  /**
   * Every command line whose options are declared as {@link CommandLine} (all but {@code bench
   * round}, whose options RoundBench still declares by hand), for the check that each option is
   * declared once and documented in its usage.
   */
  static List<CommandLine> commandLines() {
    List<CommandLine> all = new ArrayList<>(EdgeMain.commandLines());
    all.addAll(
        List.of(
            Commands.INIT,
            Commands.ROUND,
            Commands.HISTORY,
            SpecCommands.COMMAND,
            SiteCommands.ADD,
            SiteCommands.REVOKE,
            SiteCommands.LIST,
            RoundCommands.ROUND_READY,
            RoundCommands.CURRENT_ROUND,
            ReportCommands.EVALUATION_SET,
            ReportCommands.EVALUATION_SHOW,
            ReportCommands.REPORT,
            ClusterCommands.PROFILES,
            ClusterCommands.CLUSTER,
            Synthesize.COMMAND,
            EmbedImages.COMMAND,
            Simulate.COMMAND,
            ClusteredSimulation.COMMAND,
            Demo.COMMAND,
            Bench.CLUSTER,
            Bench.ROUND,
            Bench.ROBUST,
            Bench.TRAIN));
    return all;
  }
}
