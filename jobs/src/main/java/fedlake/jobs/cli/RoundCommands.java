package fedlake.jobs.cli;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.round.RoundReadiness;
import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import java.io.PrintStream;
import java.util.function.LongSupplier;

/**
 * What a scheduler asks about rounds, without Spark: {@code round-ready} (the Airflow sensor) and
 * {@code current-round} (which round a DAG run is about).
 */
public final class RoundCommands {
  /** Exit code of {@code round-ready} when the round is not ready yet: poke again later. */
  public static final int NOT_READY = 5;

  public static final CommandLine ROUND_READY =
      CommandLine.of(
              "round-ready",
              "usage: fedlake round-ready --store URI [--round R] [--conf KEY=VALUE]",
              "  whether the round may be aggregated under the spec's round policy: at least min-sites sites",
              "  sent an update, or its round-deadline passed and at least one did (the round job applies the",
              "  same rule to the updates it accepts). Counts sites with an update file; does not read them.",
              "  exit 0: ready, or round R was aggregated already; "
                  + NOT_READY
                  + ": not ready yet; 2: round R is",
              "  after the current round, or no federation in the store; 1: the store cannot be read")
          .with(StoreConfig.STORE)
          .value("round", "R", "the round to ask about (default: the current round)")
          .with(StoreConfig.CONF);
  public static final CommandLine CURRENT_ROUND =
      CommandLine.of(
              "current-round",
              "usage: fedlake current-round --store URI [--conf KEY=VALUE]",
              "  prints the round sites train for now (the model pointer's) as a bare number")
          .with(StoreConfig.STORE, StoreConfig.CONF);

  private RoundCommands() {}

  public static int roundReady(String[] argv, PrintStream out, LongSupplier clock) {
    Args args = ROUND_READY.parse(argv);
    Store store = Store.open(args.required("store"), StoreConfig.of(args).hadoop());
    RoundReadiness.Check check =
        RoundReadiness.check(
            store, args.has("round") ? args.integer("round", 0) : null, clock.getAsLong());
    out.println(check.message());
    return check.proceed() ? 0 : NOT_READY;
  }

  public static int currentRound(String[] argv, PrintStream out) {
    Args args = CURRENT_ROUND.parse(argv);
    Store store = Store.open(args.required("store"), StoreConfig.of(args).hadoop());
    out.println(store.requireLatest().round());
    return 0;
  }
}
