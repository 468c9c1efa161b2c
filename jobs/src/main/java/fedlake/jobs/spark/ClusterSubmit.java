package fedlake.jobs.spark;

import fedlake.core.store.Store;
import fedlake.core.store.StoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Standalone cluster deploy mode, where spark-submit cannot report the driver's exit code: Spark
 * 4.0's submission client ({@code org.apache.spark.deploy.ClientEndpoint}) exits 0 once the driver
 * is FINISHED, FAILED or KILLED alike. So the driver records its exit code in an <em>outcome
 * file</em> ({@code --outcome URI}: a line {@code exit=N} and a line {@code command=NAME}), and
 * {@code fedlake <command> --master spark://... --deploy-mode cluster} submits the command through
 * spark-submit (waiting for the driver), reads that file and exits with the driver's code; a driver
 * that wrote none failed before it could (exit 1). See docs/cluster.md.
 */
public final class ClusterSubmit {
  /** The option naming the outcome file, understood by every command. */
  public static final String OUTCOME_OPTION = "--outcome";

  /** Where outcome files go under the store when the caller names none. */
  public static final String OUTCOME_DIR = "_outcomes";

  private ClusterSubmit() {}

  /** The command line without {@code --outcome URI}, and that URI (or null). */
  public record Outcome(String[] args, String uri) {
    /** Splits {@code --outcome URI} off {@code args}. */
    public static Outcome of(String[] args) {
      List<String> rest = new ArrayList<>();
      String uri = null;
      for (int i = 0; i < args.length; i++) {
        if (args[i].equals(OUTCOME_OPTION)) {
          if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
            throw new IllegalArgumentException(
                "option " + OUTCOME_OPTION + " expects a file URI, e.g. file:///tmp/round.outcome");
          }
          uri = args[++i];
        } else {
          rest.add(args[i]);
        }
      }
      return new Outcome(rest.toArray(String[]::new), uri);
    }

    /**
     * Writes {@code code} to the outcome file if one was asked for; a file that cannot be written
     * is reported on {@code err} (the caller then sees no outcome: a failure).
     */
    public void record(String command, int code, PrintStream err) {
      if (uri == null) {
        return;
      }
      try {
        write(uri, hadoop(args), command, code);
      } catch (IOException | RuntimeException e) {
        err.println(
            "fedlake "
                + command
                + ": cannot write the outcome file "
                + uri
                + " (option "
                + OUTCOME_OPTION
                + "): "
                + e.getMessage());
      }
    }
  }

  /** Writes an outcome file: {@code exit=CODE} and {@code command=COMMAND}, one a line. */
  public static void write(String uri, Configuration conf, String command, int code)
      throws IOException {
    org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(uri);
    FileSystem fs = Store.fileSystem(uri, conf);
    if (path.getParent() != null) {
      fs.mkdirs(path.getParent());
    }
    try (OutputStream out = fs.create(path, true)) {
      out.write(("exit=" + code + "\ncommand=" + command + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  /**
   * The exit code an outcome file records, or empty when there is no such file; a file without an
   * {@code exit=N} line is an error naming it.
   */
  public static OptionalInt read(String uri, Configuration conf) throws IOException {
    org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(uri);
    FileSystem fs = Store.fileSystem(uri, conf);
    if (!fs.exists(path)) {
      return OptionalInt.empty();
    }
    String text;
    try (InputStream in = fs.open(path)) {
      text = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
    }
    for (String line : text.split("\n")) {
      if (line.matches("exit=-?[0-9]{1,9}")) {
        return OptionalInt.of(Integer.parseInt(line.substring("exit=".length())));
      }
    }
    throw new IllegalStateException("Outcome file " + uri + " has no exit=N line");
  }

  /**
   * The Hadoop settings a driver or the submitting process uses for the outcome file: the store's
   * environment variables, {@code spark.hadoop.*} system properties (spark-submit's {@code
   * --conf}), then the command's {@code --conf KEY=VALUE} options.
   */
  static Configuration hadoop(String[] args) {
    StoreConfig config = StoreConfig.fromEnvironment(System.getenv());
    System.getProperties().stringPropertyNames().stream()
        .filter(key -> key.startsWith("spark.hadoop."))
        .sorted()
        .forEach(
            key -> config.set(key.substring("spark.hadoop.".length()), System.getProperty(key)));
    List<String> options = new ArrayList<>();
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--" + StoreConfig.OPTION)) {
        options.add(args[++i]);
      }
    }
    return config.options(options).hadoop();
  }

  /** Whether the command line asks for {@code --deploy-mode cluster}. */
  public static boolean wanted(String[] args) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--deploy-mode") && args[i + 1].equals("cluster")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Submits {@code command args} in standalone cluster deploy mode through spark-submit (a child
   * JVM on this JVM's class path, the lean jar named by system property {@value Spark#JAR_PROPERTY}
   * as the application jar), waits for the driver to end and returns the exit code it recorded.
   */
  public static int run(String command, String[] args, PrintStream out, PrintStream err) {
    try {
      return submit(command, args, out, err);
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("fedlake " + command + ": " + e.getMessage());
      return 2;
    } catch (UncheckedIOException e) {
      err.println("fedlake " + command + ": " + StoreConfig.describeFailure(e));
      return 1;
    } catch (IOException e) {
      err.println("fedlake " + command + ": " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println("fedlake " + command + ": interrupted while waiting for spark-submit");
      return 1;
    }
  }

  private static int submit(String command, String[] args, PrintStream out, PrintStream err)
      throws IOException, InterruptedException {
    String master = null;
    String store = null;
    String outcome = null;
    List<String> forwarded = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      boolean hasValue = i + 1 < args.length;
      if (arg.equals("--deploy-mode") && hasValue) {
        i++;
      } else if (arg.equals("--master") && hasValue) {
        master = args[++i];
      } else if (arg.equals(OUTCOME_OPTION) && hasValue) {
        outcome = args[++i];
      } else {
        if (arg.equals("--store") && hasValue) {
          store = args[i + 1];
        }
        forwarded.add(arg);
      }
    }
    if (master == null) {
      master = System.getProperty("spark.master"); // bin/fedlake's FEDLAKE_SPARK_MASTER
    }
    if (master == null || !master.startsWith("spark://")) {
      throw new IllegalArgumentException(
          "option --deploy-mode cluster needs --master spark://HOST:PORT (a standalone master), got "
              + (master == null ? "no --master" : "'" + master + "'"));
    }
    String jar = System.getProperty(Spark.JAR_PROPERTY);
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException(
          "option --deploy-mode cluster needs fedlake's lean jar (system property "
              + Spark.JAR_PROPERTY
              + ", set by bin/fedlake): "
              + (jar == null ? "not set" : "no file " + jar));
    }
    if (outcome == null) {
      if (store == null) {
        throw new IllegalArgumentException(
            "option --deploy-mode cluster needs --store URI or " + OUTCOME_OPTION + " URI");
      }
      String root =
          store.contains("://") ? store : Path.of(store).toAbsolutePath().toUri().toString();
      outcome =
          root.replaceAll("/+$", "")
              + "/"
              + OUTCOME_DIR
              + "/"
              + command
              + "-"
              + UUID.randomUUID()
              + ".outcome";
    }
    Configuration conf = hadoop(args);
    List<String> submit = new ArrayList<>();
    submit.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    submit.addAll(Arrays.asList(Spark.JAVA_OPTIONS.split(" ")));
    submit.add("-cp");
    submit.add(System.getProperty("java.class.path"));
    submit.add("org.apache.spark.deploy.SparkSubmit");
    submit.addAll(
        List.of(
            "--master",
            master,
            "--deploy-mode",
            "cluster",
            "--class",
            "fedlake.jobs.FedlakeMain",
            "--conf",
            "spark.standalone.submit.waitAppCompletion=true",
            "--conf",
            "spark.driver.extraJavaOptions=" + Spark.JAVA_OPTIONS,
            "--conf",
            "spark.executor.extraJavaOptions=" + Spark.JAVA_OPTIONS));
    submit.add(Path.of(jar).toAbsolutePath().toUri().toString());
    submit.add(command);
    submit.addAll(forwarded);
    submit.add(OUTCOME_OPTION);
    submit.add(outcome);
    out.println(
        "Submitting '" + command + "' to " + master + " (deploy mode cluster); outcome " + outcome);
    out.flush();
    Process process = new ProcessBuilder(submit).inheritIO().start();
    int submitted = process.waitFor();
    OptionalInt recorded = read(outcome, conf);
    if (recorded.isEmpty()) {
      err.println(
          "fedlake "
              + command
              + ": the driver on "
              + master
              + " ended without recording an outcome in "
              + outcome
              + " (spark-submit exit "
              + submitted
              + "); its log is in the worker's work folder (master UI)");
      return 1;
    }
    Store.fileSystem(outcome, conf).delete(new org.apache.hadoop.fs.Path(outcome), false);
    out.println(
        "Driver exit code " + recorded.getAsInt() + " (spark-submit exit " + submitted + ")");
    return recorded.getAsInt();
  }
}
