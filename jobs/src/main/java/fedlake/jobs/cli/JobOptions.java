package fedlake.jobs.cli;

import fedlake.core.cli.Option;

/** Options several Spark commands share, declared once (store options: StoreConfig). */
public final class JobOptions {
  /** {@code --master M}: where the Spark job runs. */
  public static final Option MASTER =
      Option.value("master", "M", "Spark master (default local[*])");

  private JobOptions() {}
}
