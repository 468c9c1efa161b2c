package fedlake.jobs.bench;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.client.ClientAlgorithm;
import fedlake.core.client.ClientSettings;
import fedlake.core.client.HeadObjective;
import fedlake.core.client.LocalTraining;
import fedlake.core.client.SiteState;
import fedlake.core.data.Dataset;
import fedlake.core.data.Npy;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientAlgorithmName;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code fedlake bench train}: the edge runner's local training of a softmax head against a numpy
 * reference doing the same minibatch SGD with its BLAS, on the same data, timing only the training
 * loops (best of a few repetitions after a warm-up; wall time, and the CPU time of the training
 * thread or of the numpy process, which a loaded machine disturbs less). The reference runs once
 * per BLAS thread setting (by default on one thread, the strict floor, and with the threads it
 * inherits, as the issue ran it), each with its own ratio. Also times every client algorithm (SGD,
 * SCAFFOLD, PROX) per epoch, to show that the objective/optimizer split keeps each of them fast.
 */
public final class TrainBench {
  static final CommandLine COMMAND =
      CommandLine.of(
              "bench train",
              "usage: fedlake bench train [--data DIR] [--epochs 10] [--batch-size 16] [--learning-rate 0.3] [--repeats 3]")
          .value(
              "data",
              "DIR",
              "folder with train_X.npy and train_y.npy (default " + TrainBench.DATA_DEFAULT + ")")
          .value("epochs", "E", "local epochs (default 10)")
          .value("batch-size", "B", "examples per step (default 16)")
          .value(
              "learning-rate",
              "LR",
              "SGD step size (default " + TrainSettings.LEARNING_RATE_DEFAULT + ")")
          .value("repeats", "R", "timed repetitions after one warm-up; the best counts (default 3)")
          .value(
              "python",
              "P",
              "python with numpy for the reference (default python3); 'none' skips it")
          .value(
              "numpy-threads",
              "T[,T...]",
              "BLAS thread settings of the reference, one run each (default 1,inherit: one thread,"
                  + " as the edge runner trains on one, then 'inherit', which leaves"
                  + " OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS as they are)");

  public static final String USAGE = COMMAND.usage();
  static final String DATA_DEFAULT = "/work/shared/data/clip-vitb32-dev/caltech101";

  private TrainBench() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out));
  }

  /** What one timed configuration gave. */
  record Timing(double seconds, double cpuSeconds, double accuracy, int steps) {}

  public static int run(String[] argv, PrintStream out) {
    Args args;
    try {
      args = COMMAND.parse(argv);
    } catch (IllegalArgumentException e) {
      out.println(e.getMessage());
      out.println(USAGE);
      return 2;
    }
    Path dir = Path.of(args.string("data", DATA_DEFAULT));
    int epochs = args.integer("epochs", 10);
    int batchSize = args.integer("batch-size", 16);
    double learningRate = args.number("learning-rate", TrainSettings.LEARNING_RATE_DEFAULT);
    int repeats = Math.max(1, args.integer("repeats", 3));
    String python = args.string("python", "python3");
    String[] threadSettings = args.string("numpy-threads", "1,inherit").split(",", -1);
    for (String threads : threadSettings) {
      if (!"inherit".equals(threads) && !threads.matches("[1-9][0-9]{0,3}")) {
        out.println(
            "bench train: --numpy-threads: '"
                + threads
                + "' is neither a thread count (1-9999) nor 'inherit'");
        return 2;
      }
    }
    Path xFile = dir.resolve("train_X.npy");
    Path yFile = dir.resolve("train_y.npy");
    if (!Files.exists(xFile) || !Files.exists(yFile)) {
      out.println("bench train: " + dir + " needs train_X.npy and train_y.npy");
      return 2;
    }
    Npy.Array x = Npy.read(xFile);
    Npy.Array y = Npy.read(yFile);
    float[] features = new float[x.values().length];
    for (int i = 0; i < features.length; i++) {
      features[i] = (float) x.values()[i];
    }
    int[] labels = new int[y.values().length];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = (int) y.values()[i];
    }
    Dataset data = Dataset.of(xFile.toString(), features, labels, x.columns());
    int classes = data.classBound();
    TrainSettings settings = new TrainSettings(epochs, batchSize, learningRate, 0, 0, 0, false);
    out.printf(
        Locale.ROOT,
        "bench train: %s, %d x %d, %d classes; %d epochs, batch %d, learning rate %s, logit scale %s; best of %d after a warm-up%n",
        dir,
        data.size(),
        data.dimension(),
        classes,
        epochs,
        batchSize,
        learningRate,
        Models.DEFAULT_LOGIT_SCALE,
        repeats);

    Timing[] java = new Timing[ClientAlgorithmName.values().length];
    for (ClientAlgorithmName algorithm : ClientAlgorithmName.values()) {
      java[algorithm.ordinal()] = timeJava(data, classes, settings, algorithm, repeats);
    }
    Timing sgd = java[ClientAlgorithmName.SGD.ordinal()];
    out.println("java: kernels " + LocalTraining.kernels());
    out.printf(
        Locale.ROOT,
        "java  sgd: %.3f s training (cpu %.3f s; %.1f ms an epoch, %d steps), training accuracy %.4f%n",
        sgd.seconds(),
        sgd.cpuSeconds(),
        1000 * sgd.seconds() / epochs,
        sgd.steps(),
        sgd.accuracy());
    for (String threads : "none".equals(python) ? new String[0] : threadSettings) {
      Timing numpy = timeNumpy(python, threads, xFile, yFile, settings, repeats, out);
      if (numpy == null) {
        break; // the reason is printed; another thread setting would fail the same way
      }
      String label =
          "inherit".equals(threads)
              ? "inherited BLAS threads"
              : threads + " BLAS thread" + ("1".equals(threads) ? "" : "s");
      out.printf(
          Locale.ROOT,
          "numpy sgd (%s): %.3f s training (cpu %.3f s; %.1f ms an epoch), training accuracy %.4f%n",
          label,
          numpy.seconds(),
          numpy.cpuSeconds(),
          1000 * numpy.seconds() / epochs,
          numpy.accuracy());
      out.printf(
          Locale.ROOT,
          "ratio java / numpy (%s): %.2f (goal <= 1.0); in cpu time %.2f%n",
          label,
          sgd.seconds() / numpy.seconds(),
          sgd.cpuSeconds() / numpy.cpuSeconds());
    }
    out.println("per client algorithm (java):");
    for (ClientAlgorithmName algorithm : ClientAlgorithmName.values()) {
      Timing t = java[algorithm.ordinal()];
      out.printf(
          Locale.ROOT,
          "  %-8s %.3f s, %.1f ms an epoch (%.2fx sgd), training accuracy %.4f%n",
          algorithm.name().toLowerCase(Locale.ROOT),
          t.seconds(),
          1000 * t.seconds() / epochs,
          t.seconds() / sgd.seconds(),
          t.accuracy());
    }
    return 0;
  }

  /**
   * Times local training with {@code algorithm} from a zero head. SCAFFOLD gets a random server
   * control variate (so its correction is not zero), PROX mu 0.01.
   */
  static Timing timeJava(
      Dataset data, int classes, TrainSettings settings, ClientAlgorithmName name, int repeats) {
    Head start = Head.zeros(data.dimension(), classes, Models.DEFAULT_LOGIT_SCALE);
    HeadObjective objective = HeadObjective.of(start, data, false);
    float[] base = new float[objective.parameterCount()];
    float[] server = new float[name == ClientAlgorithmName.SCAFFOLD ? base.length : 0];
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < server.length; i++) {
      server[i] = (float) (random.nextGaussian() * 1e-4);
    }
    ClientAlgorithm algorithm = new ClientSettings(name, settings, 0.01).create();
    double best = Double.POSITIVE_INFINITY;
    double bestCpu = Double.POSITIVE_INFINITY;
    java.lang.management.ThreadMXBean threads =
        java.lang.management.ManagementFactory.getThreadMXBean();
    LocalTraining.Result result = null;
    for (int run = 0; run <= repeats; run++) { // run 0 warms up
      ClientAlgorithm.Round round =
          algorithm.begin(
              new ClientAlgorithm.RoundStart(
                  objective, base, server, 0, SiteState.empty(), line -> {}));
      long cpuStarted = threads.getCurrentThreadCpuTime();
      long started = System.nanoTime();
      result =
          LocalTraining.train(
              objective, base, data, settings, round.term(), LocalTrainer.Progress.NONE);
      double seconds = (System.nanoTime() - started) / 1e9;
      double cpu = (threads.getCurrentThreadCpuTime() - cpuStarted) / 1e9;
      round.finish(result.parameters(), result.steps(), settings.learningRate());
      if (run > 0) {
        best = Math.min(best, seconds);
        bestCpu = Math.min(bestCpu, cpu);
      }
    }
    double accuracy = objective.classifier(result.parameters()).evaluate(data).accuracy();
    return new Timing(best, bestCpu, accuracy, result.steps());
  }

  /** The BLAS thread variables of this process's environment, or that none is set. */
  static String inherited() {
    StringBuilder set = new StringBuilder();
    for (String variable :
        new String[] {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}) {
      String value = System.getenv(variable);
      if (value != null) {
        set.append(set.length() == 0 ? "" : ", ").append(variable).append('=').append(value);
      }
    }
    return set.length() == 0
        ? "none of OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS set; "
            + Runtime.getRuntime().availableProcessors()
            + " CPUs"
        : set.toString();
  }

  /**
   * The same minibatch SGD in numpy, run by {@code python}; null (with a line saying why) when it
   * cannot run.
   */
  static Timing timeNumpy(
      String python,
      String threads,
      Path xFile,
      Path yFile,
      TrainSettings settings,
      int repeats,
      PrintStream out) {
    String script;
    try (InputStream in = TrainBench.class.getResourceAsStream("train_reference.py")) {
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      out.println("numpy: reference script missing from the classpath (" + e + ")");
      return null;
    }
    try {
      Process check =
          new ProcessBuilder(python, "-c", "import numpy").redirectErrorStream(true).start();
      check.getInputStream().readAllBytes();
      if (check.waitFor() != 0) {
        out.println("numpy: not available (" + python + " -c 'import numpy' failed); no reference");
        return null;
      }
      ProcessBuilder builder =
          new ProcessBuilder(
                  python,
                  "-",
                  xFile.toString(),
                  yFile.toString(),
                  Integer.toString(settings.epochs()),
                  Integer.toString(settings.batchSize()),
                  Double.toString(settings.learningRate()),
                  Integer.toString(repeats))
              .redirectErrorStream(true);
      if (!"inherit".equals(threads)) {
        for (String variable :
            new String[] {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}) {
          builder.environment().put(variable, threads);
        }
      }
      out.println(
          "numpy: BLAS threads "
              + ("inherit".equals(threads) ? "as inherited (" + inherited() + ")" : threads));
      Process process = builder.start();
      try (OutputStream stdin = process.getOutputStream()) {
        stdin.write(script.getBytes(StandardCharsets.UTF_8));
      }
      ByteArrayOutputStream output = new ByteArrayOutputStream();
      process.getInputStream().transferTo(output);
      String text = output.toString(StandardCharsets.UTF_8);
      if (process.waitFor() != 0) {
        out.println("numpy: reference failed:\n" + text);
        return null;
      }
      double seconds = Double.NaN;
      double cpuSeconds = Double.NaN;
      double accuracy = Double.NaN;
      for (String line : text.split("\n")) {
        if (line.startsWith("seconds=")) {
          seconds = Double.parseDouble(line.substring("seconds=".length()).trim());
        } else if (line.startsWith("cpu=")) {
          cpuSeconds = Double.parseDouble(line.substring("cpu=".length()).trim());
        } else if (line.startsWith("accuracy=")) {
          accuracy = Double.parseDouble(line.substring("accuracy=".length()).trim());
        } else if (line.startsWith("blas=")) {
          out.println("numpy: " + line.trim());
        }
      }
      return new Timing(seconds, cpuSeconds, accuracy, 0);
    } catch (IOException e) {
      out.println("numpy: not available (" + python + ": " + e.getMessage() + "); no reference");
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
