package fedlake.jobs.bench;

import fedlake.core.cli.Args;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;

/**
 * {@code fedlake bench aggregate}: time and peak heap of the round job's streaming aggregation
 * against a reference that loads every update into memory first (what a naive FedAvg does),
 * measured in the same run on the same update files. Prints ratios; asserts nothing.
 */
public final class Bench {
  public static final String USAGE =
      RoundBench.USAGE
          + "\n"
          + RobustBench.USAGE
          + "\n"
          + TrainBench.USAGE
          + "\n"
          + "usage: fedlake bench aggregate [--updates 25,100,400] [--dim 512] [--classes 100]\n"
          + "       fedlake bench cluster [--profiles 100000] [--reference 10000] [--algorithm kmeans] [--k auto|K]";

  private Bench() {}

  public static int run(String[] argv, PrintStream out) {
    if (argv.length > 0 && "train".equals(argv[0])) {
      return TrainBench.run(java.util.Arrays.copyOfRange(argv, 1, argv.length), out);
    }
    if (argv.length > 0 && "round".equals(argv[0])) {
      return RoundBench.run(java.util.Arrays.copyOfRange(argv, 1, argv.length), out);
    }
    if (argv.length > 0 && "robust".equals(argv[0])) {
      return RobustBench.run(java.util.Arrays.copyOfRange(argv, 1, argv.length), out);
    }
    if (argv.length > 0 && "cluster".equals(argv[0])) {
      return ClusterBench.run(java.util.Arrays.copyOfRange(argv, 1, argv.length), out);
    }
    if (argv.length == 0 || !"aggregate".equals(argv[0])) {
      throw new IllegalArgumentException(USAGE);
    }
    Args args =
        new Args(
            "bench aggregate",
            java.util.Arrays.copyOfRange(argv, 1, argv.length),
            Set.of("updates", "dim", "classes"),
            Set.of());
    int dimension = args.integer("dim", 512);
    int classes = args.integer("classes", 100);
    out.printf(
        "bench aggregate: %d x %d head (%d parameters, %.1f MB of floats an update)%n",
        classes,
        dimension,
        classes * dimension + classes,
        (classes * dimension + classes) * 4 / 1e6);
    out.printf(
        "%8s %14s %14s %12s %16s %16s %12s %12s%n",
        "updates",
        "stream ms",
        "in-memory ms",
        "time ratio",
        "stream peak MB",
        "in-memory MB",
        "heap ratio",
        "max |diff|");
    for (String count : args.string("updates", "25,100,400").split(",")) {
      measure(Integer.parseInt(count.trim()), dimension, classes, out);
    }
    out.println(
        "time ratio = stream / in-memory; heap ratio = stream peak / in-memory peak (lower is better).");
    return 0;
  }

  private static void measure(int updates, int dimension, int classes, PrintStream out) {
    try {
      java.nio.file.Path dir = Files.createTempDirectory("fedlake-bench-");
      Store store = Store.open(dir.toUri().toString(), new Configuration());
      Model base = new Federation(store).dimension(dimension).classes(classes).execute().get(0);
      SplittableRandom random = new SplittableRandom(updates);
      for (int i = 0; i < updates; i++) {
        float[] weights = new float[classes * dimension];
        float[] bias = new float[classes];
        for (int j = 0; j < weights.length; j++) {
          weights[j] = (float) random.nextGaussian();
        }
        long[] histogram = new long[classes];
        histogram[i % classes] = 10 + i;
        store.writeUpdate(
            Update.newBuilder()
                .setUpdateId(UUID.randomUUID().toString())
                .setSite("site-" + i)
                .setRound(0)
                .setCluster(0)
                .setBaseModelVersion(base.getVersion())
                .setKind(Models.HEAD)
                .setDimension(dimension)
                .setClassCount(classes)
                .setNumExamples(10 + i)
                .setLocalEpochs(1)
                .setLocalSteps(1)
                .setWeights(FloatArrays.asList(weights))
                .setBias(FloatArrays.asList(bias))
                .setLocalLoss(1)
                .setLocalAccuracy(0.5)
                .setLabelHistogram(FloatArrays.asList(histogram))
                .setCreatedTime(Instant.now())
                .build());
      }

      // reference: every update in memory, then the weighted mean
      resetPeaks();
      long started = System.nanoTime();
      UpdateReader reader = new UpdateReader(store.conf());
      List<Update> all = new ArrayList<>();
      for (FileStatus file : store.listUpdates(0)) {
        all.add(reader.read(file.getPath().toString()));
      }
      double[] sum = new double[classes * dimension + classes];
      long total = 0;
      for (Update u : all) {
        float[] p = Models.parameters(u);
        for (int j = 0; j < p.length; j++) {
          sum[j] += (double) p[j] * u.getNumExamples();
        }
        total += u.getNumExamples();
      }
      long referenceNanos = System.nanoTime() - started;
      long referencePeak = peakHeap();
      all.clear();

      resetPeaks();
      started = System.nanoTime();
      RoundResult result = new RoundJob(store).execute();
      long streamNanos = System.nanoTime() - started;
      long streamPeak = peakHeap();

      float[] published = Models.parameters(result.published().get(0));
      double maxDiff = 0;
      for (int j = 0; j < published.length; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(published[j] - sum[j] / total));
      }
      out.printf(
          "%8d %14.0f %14.0f %12.2f %16.1f %16.1f %12.2f %12.2e%n",
          updates,
          streamNanos / 1e6,
          referenceNanos / 1e6,
          (double) streamNanos / referenceNanos,
          streamPeak / 1e6,
          referencePeak / 1e6,
          (double) streamPeak / referencePeak,
          maxDiff);
      deleteTree(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("bench: " + e.getMessage(), e);
    }
  }

  /** Deletes a benchmark's scratch folder. */
  static void deleteTree(java.nio.file.Path dir) throws IOException {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static void resetPeaks() {
    System.gc();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  /** Sum over heap pools of their peak usage since the last reset. */
  static long peakHeap() {
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    return peak;
  }
}
