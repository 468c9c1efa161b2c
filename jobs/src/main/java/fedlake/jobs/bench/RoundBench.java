package fedlake.jobs.bench;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.jobs.cli.JobOptions;
import fedlake.jobs.spark.Spark;
import fedlake.jobs.spark.SparkScanner;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.Update;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;

/**
 * {@code fedlake bench round}: K update files in a local store, the real round job on them (Spark,
 * the store's scanner), and in the same run a floor: a plain loop that loads the same parameters
 * from raw little-endian float32 files and sums them weighted by their example counts. Prints both
 * times (the job's own time, Spark already started), their ratio, the job's phases, the peak heap
 * and the largest difference between the published model and the floor's mean. Asserts nothing.
 */
public final class RoundBench {
  /**
   * Warm-up rounds by default. The JIT compiles the per-file code in the first round, but the
   * once-a-round code (listing, claim, audit, history, Spark's job set-up) only over several: its
   * compiling time falls from about 3 s in the first round to 0.1-0.3 s from the tenth on, and not
   * to zero (code used once a round is flushed from the code cache and compiled again).
   */
  static final int WARM_UPS_DEFAULT = 12;

  static final CommandLine COMMAND =
      CommandLine.of(
              "bench round",
              "usage: fedlake bench round [--updates 1000[,K2,...]] [--classes 100] [--dim 512] [--repeat 2] [--warm-up 12] [--form plain|snappy] [--master local[*]] [--keep DIR]",
              "  K updates of a classes x dim head (+ bias) per run; several K show how time grows with K.",
              "  Goal: job / floor within 3x. Peak heap: run with FEDLAKE_HEAP=-Xmx1g to check the 1 GiB bound.")
          .value("updates", "K[,K2,...]", "updates a run (default 1000); one run per K")
          .value("classes", "C", "classes of the head (default 100)")
          .value("dim", "D", "embedding dimension (default 512)")
          .value(
              "form",
              "plain|snappy",
              "update files as the edge runner writes them (plain: uncompressed, no dictionary, no"
                  + " statistics; the default) or as a writer with parquet-avro's defaults and Snappy"
                  + " does (compressed, dictionary-encoded, with statistics)")
          .value(
              "repeat",
              "N",
              "run the job on N identical copies of the store, as the floor runs twice; the table"
                  + " gives the best and the first (default 2)")
          .value(
              "warm-up",
              "N",
              "rounds the job runs on a smaller store before the measured ones, so that the JIT"
                  + " has compiled the round as in a long-lived process (default "
                  + WARM_UPS_DEFAULT
                  + "; 0 measures a cold JVM)")
          .with(JobOptions.MASTER)
          .value(
              "keep",
              "DIR",
              "write the stores under DIR and keep them (default: a temporary folder)");

  public static final String USAGE = COMMAND.usage();

  private RoundBench() {}

  public static int run(String[] argv, PrintStream out) {
    Args args = COMMAND.parse(argv);
    int classes = args.integer("classes", 100);
    int dimension = args.integer("dim", 512);
    int repeat = args.integer("repeat", 2);
    int warmUps = args.integer("warm-up", WARM_UPS_DEFAULT);
    if (warmUps < 0) {
      throw new IllegalArgumentException("--warm-up must be 0 or more, got " + warmUps);
    }
    String form = args.string("form", "plain");
    if (!form.equals("plain") && !form.equals("snappy")) {
      throw new IllegalArgumentException("--form must be plain or snappy, got " + form);
    }
    boolean snappy = form.equals("snappy");
    if (repeat < 1) {
      throw new IllegalArgumentException("--repeat must be at least 1, got " + repeat);
    }
    int parameters = classes * dimension + classes;
    SparkSession spark = Spark.session("fedlake-bench-round", args.string("master", null));
    try {
      spark
          .sparkContext()
          .parallelize(
              scala.jdk.javaapi.CollectionConverters.asScala(List.of(1, 2)).toSeq(),
              2,
              scala.reflect.ClassTag$.MODULE$.apply(Integer.class))
          .count(); // Spark's first-job start-up is not the round's
      out.printf(
          Locale.ROOT,
          "bench round: %d x %d head + bias = %,d parameters (%.1f KB of float32 an update); Spark %s, %d cores, max heap %d MB%s; exact sums %s%n",
          classes,
          dimension,
          parameters,
          parameters * 4 / 1e3,
          spark.sparkContext().master(),
          Runtime.getRuntime().availableProcessors(),
          Runtime.getRuntime().maxMemory() >> 20,
          java.lang.management.ManagementFactory.getRuntimeMXBean()
                  .getInputArguments()
                  .contains("-XX:+AlwaysPreTouch")
              ? " (touched at start)"
              : "",
          fedlake.core.numeric.ExactSum.VECTOR
              ? "eight values at a time (jdk.incubator.vector)"
              : "in a scalar loop (no --add-modules jdk.incubator.vector)");
      List<Integer> ks = new ArrayList<>();
      for (String k : args.string("updates", "1000").split(",")) {
        ks.add(Integer.parseInt(k.trim()));
      }
      if (warmUps > 0) {
        int updates = warmUpUpdates(java.util.Collections.max(ks), parameters);
        out.printf(
            Locale.ROOT,
            "  (warm-up, so that the JIT has compiled the round as in a long-lived process: the round job on %d updates of %d x %d"
                + " took %s ms, in brackets the JIT's compiling time)%n",
            updates,
            classes,
            dimension,
            warmUp(spark, warmUps, updates, classes, dimension, snappy));
      }
      out.printf(
          "%9s %10s %10s %10s %8s %8s %10s %10s %10s %12s %11s %10s%n",
          "updates",
          "job ms",
          "first ms",
          "floor ms",
          "ratio",
          "first",
          "check ms",
          "finish ms",
          "write ms",
          "job us/upd",
          "peak MB",
          "max |diff|");
      for (int k : ks) {
        measure(spark, k, classes, dimension, repeat, snappy, args.string("keep", null), out);
      }
      out.println(
          "job = the round job's own time (Spark started, warmed up), best of the runs on identical copies of the store;"
              + " first = the first of them; floor = plain loop over raw float32 files, best of two; ratio = job / floor, first = first / floor;\n"
              + "check = listing, reading, checking and folding every file; finish = strategy + model; write = model, audit, history, pointer;"
              + " peak = heap during the job.");
      return 0;
    } finally {
      spark.stop();
    }
  }

  private static void measure(
      SparkSession spark,
      int updates,
      int classes,
      int dimension,
      int repeat,
      boolean snappy,
      String keep,
      PrintStream out) {
    try {
      Path dir =
          keep != null
              ? Files.createDirectories(Path.of(keep).resolve("k" + updates))
              : Files.createTempDirectory("fedlake-bench-round-");
      Store store = Store.open(dir.resolve("store").toUri().toString(), new Configuration());
      Path raw = Files.createDirectories(dir.resolve("raw"));
      Model base = new Federation(store).dimension(dimension).classes(classes).execute().get(0);
      long[] weights = write(store, raw, base, updates, classes, dimension, snappy, out);

      settle();
      double[] mean = null;
      long floorNanos = Long.MAX_VALUE;
      for (int pass = 0; pass < 2; pass++) {
        long started = System.nanoTime();
        mean = floor(raw, updates, classes * dimension + classes, weights);
        floorNanos = Math.min(floorNanos, System.nanoTime() - started);
      }

      List<Store> copies = new ArrayList<>(List.of(store));
      for (int r = 1; r < repeat; r++) {
        Path copy = dir.resolve("store-" + r);
        copyTree(dir.resolve("store"), copy);
        copies.add(Store.open(copy.toUri().toString(), new Configuration()));
      }
      settle();
      long firstNanos = 0;
      long jobNanos = Long.MAX_VALUE;
      long peak = 0;
      RoundResult result = null;
      for (Store copy : copies) {
        Heap.resetPeaks();
        long started = System.nanoTime();
        RoundResult run = new RoundJob(copy).scanner(new SparkScanner(spark)).execute();
        long nanos = System.nanoTime() - started;
        peak = Math.max(peak, Heap.peak());
        if (run.status() != RoundResult.Status.PUBLISHED || run.accepted() != updates) {
          throw new IllegalStateException(
              "bench round: expected " + updates + " accepted updates, got " + run.message());
        }
        if (firstNanos == 0) {
          firstNanos = nanos;
        }
        if (nanos < jobNanos) {
          jobNanos = nanos;
          result = run;
        }
      }
      float[] published = Models.parameters(result.published().get(0));
      double maxDiff = 0;
      for (int j = 0; j < published.length; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(published[j] - (float) mean[j]));
      }
      RoundHistory h = result.history().get(0);
      out.printf(
          Locale.ROOT,
          "%9d %10.0f %10.0f %10.0f %8.2f %8.2f %10d %10d %10d %12.1f %11.0f %10.2e%n",
          updates,
          jobNanos / 1e6,
          firstNanos / 1e6,
          floorNanos / 1e6,
          (double) jobNanos / floorNanos,
          (double) firstNanos / floorNanos,
          h.getValidateMillis(),
          h.getAggregateMillis(),
          h.getPublishMillis(),
          jobNanos / 1e3 / updates,
          peak / 1e6,
          maxDiff);
      if (keep == null) {
        Heap.deleteTree(dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("bench round: " + e.getMessage(), e);
    }
  }

  /**
   * Warm-up rounds run on updates of the measured shape, enough of them that the per-file code
   * (footers, checks, sums) is compiled: as many as the largest measured round, at most 5,000 and
   * at most about 250 MB of parameters.
   */
  private static int warmUpUpdates(int largest, int parameters) {
    long byBytes = Math.max(100, 250_000_000L / (4L * parameters));
    return (int) Math.min(Math.min(5000, largest), byBytes);
  }

  /**
   * Flushes the files just written, so that neither measurement competes with the kernel writing
   * them back.
   */
  private static void settle() {
    try {
      new ProcessBuilder("sync").inheritIO().start().waitFor();
    } catch (IOException e) {
      // no sync command: measure anyway
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Runs the round job {@code rounds} times, each on a fresh copy of a store of {@code updates}
   * updates of the measured shape and file form; returns their times and the JIT's compiling time
   * during each.
   */
  private static String warmUp(
      SparkSession spark, int rounds, int updates, int classes, int dimension, boolean snappy) {
    java.lang.management.CompilationMXBean jit =
        java.lang.management.ManagementFactory.getCompilationMXBean();
    try {
      Path dir = Files.createTempDirectory("fedlake-bench-warm-up-");
      Path original = dir.resolve("store");
      Store store = Store.open(original.toUri().toString(), new Configuration());
      Model base = new Federation(store).dimension(dimension).classes(classes).execute().get(0);
      write(
          store,
          Files.createDirectories(dir.resolve("raw")),
          base,
          updates,
          classes,
          dimension,
          snappy,
          new PrintStream(OutputStream.nullOutputStream()));
      List<String> times = new ArrayList<>();
      for (int r = 0; r < rounds; r++) {
        Path copy = dir.resolve("copy");
        copyTree(original, copy);
        long compiling = jit.getTotalCompilationTime();
        long started = System.nanoTime();
        new RoundJob(Store.open(copy.toUri().toString(), new Configuration()))
            .scanner(new SparkScanner(spark))
            .execute();
        double millis = (System.nanoTime() - started) / 1e6;
        long compiled = jit.getTotalCompilationTime() - compiling;
        times.add(String.format(Locale.ROOT, "%.0f (%d)", millis, compiled));
        Heap.deleteTree(copy);
      }
      Heap.deleteTree(dir);
      return String.join(", ", times);
    } catch (IOException e) {
      throw new UncheckedIOException("bench round: warm-up: " + e.getMessage(), e);
    }
  }

  /** Copies a store folder, files and folders, as it is. */
  private static void copyTree(Path from, Path to) throws IOException {
    try (java.util.stream.Stream<Path> paths = Files.walk(from)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  /**
   * The floor: read each raw float32 file, add n_i * values into a double sum, divide by the total.
   */
  private static double[] floor(Path raw, int updates, int size, long[] weights)
      throws IOException {
    double[] sum = new double[size];
    float[] values = new float[size];
    long total = 0;
    for (int i = 0; i < updates; i++) {
      ByteBuffer bytes =
          ByteBuffer.wrap(Files.readAllBytes(raw.resolve(i + ".f32")))
              .order(ByteOrder.LITTLE_ENDIAN);
      bytes.asFloatBuffer().get(values);
      long w = weights[i];
      for (int j = 0; j < size; j++) {
        sum[j] += (double) values[j] * w;
      }
      total += w;
    }
    for (int j = 0; j < size; j++) {
      sum[j] /= total;
    }
    return sum;
  }

  /**
   * Writes K update files (through the store, as the edge runner does) and the same parameters as
   * raw float32 files.
   */
  private static long[] write(
      Store store,
      Path raw,
      Model base,
      int updates,
      int classes,
      int dimension,
      boolean snappy,
      PrintStream out) {
    long[] weights = new long[updates];
    Path folder;
    try {
      folder = Files.createDirectories(Path.of(store.updatesDir(0).toUri()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long started = System.nanoTime();
    try {
      List<Future<?>> running = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t;
        running.add(
            pool.submit(
                () -> {
                  for (int i = first; i < updates; i += threads) {
                    SplittableRandom random = new SplittableRandom(i);
                    float[] w = new float[classes * dimension];
                    float[] b = new float[classes];
                    for (int j = 0; j < w.length; j++) {
                      w[j] = (float) (random.nextDouble() * 2 - 1) * 0.1f;
                    }
                    for (int j = 0; j < b.length; j++) {
                      b[j] = (float) (random.nextDouble() * 2 - 1) * 0.1f;
                    }
                    long examples = 10 + random.nextInt(1000);
                    weights[i] = examples;
                    long[] histogram = new long[classes];
                    histogram[i % classes] = examples;
                    try {
                      Update update =
                          Update.newBuilder()
                              .setUpdateId(String.format("%08d", i))
                              .setSite(String.format("site-%06d", i))
                              .setRound(0)
                              .setCluster(0)
                              .setBaseModelVersion(base.getVersion())
                              .setKind(Models.HEAD)
                              .setDimension(dimension)
                              .setClassCount(classes)
                              .setNumExamples(examples)
                              .setLocalEpochs(1)
                              .setLocalSteps(1)
                              .setWeights(FloatArrays.asList(w))
                              .setBias(FloatArrays.asList(b))
                              .setLocalLoss(1)
                              .setLocalAccuracy(0.5)
                              .setLabelHistogram(FloatArrays.asList(histogram))
                              .setCreatedTime(base.getCreatedTime().plusSeconds(1))
                              .build();
                      Path file =
                          folder.resolve(
                              update.getSite() + "--" + update.getUpdateId() + ".parquet");
                      if (snappy) {
                        // as a writer with parquet-avro's defaults and Snappy writes it
                        ParquetFiles.writeLocal(
                            file,
                            Update.getClassSchema(),
                            List.of(update),
                            org.apache.parquet.hadoop.metadata.CompressionCodecName.SNAPPY,
                            true,
                            org.apache.parquet.hadoop.ParquetWriter.DEFAULT_PAGE_SIZE);
                      } else {
                        // the edge runner's file format (ParquetFiles.writePlain), written
                        // straight to the local folder
                        ParquetFiles.writePlain(file, Update.getClassSchema(), List.of(update));
                      }
                      ByteBuffer bytes =
                          ByteBuffer.allocate((w.length + b.length) * 4)
                              .order(ByteOrder.LITTLE_ENDIAN);
                      bytes.asFloatBuffer().put(w).put(b);
                      Files.write(raw.resolve(i + ".f32"), bytes.array());
                    } catch (IOException e) {
                      throw new UncheckedIOException(e);
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : running) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("bench round: interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(
          "bench round: writing updates failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    out.printf(
        Locale.ROOT,
        "  (wrote %d updates and their raw copies in %.1f s)%n",
        updates,
        (System.nanoTime() - started) / 1e9);
    return weights;
  }
}
