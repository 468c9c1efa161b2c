package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import java.util.SplittableRandom;

/**
 * Minibatch training of any {@link Objective} with an {@link Optimizer}, every step's gradient
 * shifted by a client algorithm's {@link GradientTerm}: per epoch a Fisher-Yates shuffle of the
 * rows (seeded), then per batch gradient, term, step; the term and step of each range of the
 * gradient as soon as the objective has finished it ({@link Objective.Ready}). The one
 * implementation of local training; the trainers of {@code fedlake.core.train} and the edge runner
 * call it.
 */
public final class LocalTraining {
  private LocalTraining() {}

  /**
   * Trained parameters in the stored layout, the number of steps, and the mean training loss of the
   * last epoch.
   */
  public record Result(float[] parameters, int steps, double lastEpochLoss) {}

  /**
   * Trains from {@code start} (stored layout, not modified) with {@link MomentumSgd} of the
   * settings.
   *
   * @throws IllegalArgumentException when data and objective do not fit together
   */
  public static Result train(
      Objective objective,
      float[] start,
      Dataset data,
      TrainSettings settings,
      GradientTerm term,
      LocalTrainer.Progress progress) {
    Optimizer optimizer =
        MomentumSgd.of(
            objective, settings.learningRate(), settings.momentum(), settings.weightDecay());
    return train(objective, optimizer, start, data, settings, term, progress);
  }

  /**
   * As {@link #train(Objective, float[], Dataset, TrainSettings, GradientTerm,
   * LocalTrainer.Progress)} with another optimizer.
   */
  public static Result train(
      Objective objective,
      Optimizer optimizer,
      float[] start,
      Dataset data,
      TrainSettings settings,
      GradientTerm term,
      LocalTrainer.Progress progress) {
    return train(objective, optimizer, start, data, settings, term, progress, Integer.MAX_VALUE);
  }

  /**
   * As above, stopping after {@code maxSteps} optimizer steps (a site's budget, {@link SiteBudget})
   * even in the middle of an epoch.
   */
  public static Result train(
      Objective objective,
      Optimizer optimizer,
      float[] start,
      Dataset data,
      TrainSettings settings,
      GradientTerm term,
      LocalTrainer.Progress progress,
      int maxSteps) {
    float[] parameters = objective.pack(start);
    float[] gradient = new float[parameters.length];
    int n = data.size();
    int batchSize = settings.batchSize();
    Batch batch = new Batch(Math.max(1, Math.min(batchSize, n)), data.dimension());
    int from = objective.trainableFrom();
    int[] order = identity(n);
    SplittableRandom random = new SplittableRandom(settings.seed());
    int steps = 0;
    double epochLoss = Double.NaN;
    // term and step per finished range of the gradient, while it is in the cache
    Objective.Ready ready =
        (lo, hi) -> {
          int first = Math.max(lo, from);
          if (first < hi) {
            term.add(parameters, gradient, first, hi);
            optimizer.step(parameters, gradient, first, hi);
          }
        };
    for (int epoch = 0; epoch < settings.epochs() && steps < maxSteps; epoch++) {
      shuffle(order, random);
      double sum = 0;
      for (int first = 0; first < n && steps < maxSteps; first += batchSize) {
        batch.fill(data, order, first, Math.min(n, first + batchSize) - first);
        sum += objective.lossAndGradient(parameters, batch, gradient, ready);
        steps++;
      }
      epochLoss = sum / n;
      progress.epoch(epoch + 1, settings.epochs(), epochLoss);
    }
    return new Result(objective.unpack(parameters), steps, epochLoss);
  }

  /**
   * Which kernels the products of the head run in this JVM: jdk.incubator.vector when the JVM adds
   * that module, else loops that C2 auto-vectorises.
   */
  public static String kernels() {
    return Kernels.description();
  }

  /** 0, 1, ..., n - 1. */
  public static int[] identity(int n) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    return order;
  }

  /** Fisher-Yates shuffle. */
  public static void shuffle(int[] order, SplittableRandom random) {
    for (int i = order.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }
}
