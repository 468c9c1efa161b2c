package fedlake.core.train;

import fedlake.core.client.GradientTerm;
import fedlake.core.client.HeadObjective;
import fedlake.core.client.LocalTraining;
import fedlake.core.data.Dataset;
import fedlake.core.model.Head;

/**
 * Trains a softmax head on a site's labelled embeddings with minibatch SGD (optional momentum) on
 * cross-entropy. The encoder stays frozen: only W and b change. With a SCAFFOLD correction {@code c
 * - c_i} every step's gradient is shifted by it, which removes the drift of sites whose labels
 * differ from the federation's.
 *
 * <p>A thin wrapper: the arithmetic is {@link HeadObjective} trained by {@link LocalTraining}.
 */
public final class LocalTrainer {
  private LocalTrainer() {}

  /** Progress callback: called after every epoch. */
  @FunctionalInterface
  public interface Progress {
    void epoch(int epoch, int epochs, double meanLoss);

    Progress NONE = (e, n, l) -> {};
  }

  /** Outcome of local training; {@code head} is a trained copy, the input head is unchanged. */
  public record Result(Head head, int steps, double loss, double accuracy) {}

  public static Result train(Head start, Dataset data, TrainSettings settings, Progress progress) {
    return train(start, data, settings, null, progress);
  }

  /**
   * @param correction gradient correction laid out as weights then bias ({@code c - c_i} of
   *     SCAFFOLD), or null
   */
  public static Result train(
      Head start, Dataset data, TrainSettings settings, float[] correction, Progress progress) {
    int dimension = start.dimension();
    int classes = start.classCount();
    if (data.dimension() != dimension) {
      throw new IllegalArgumentException(
          "Cannot train: data has dimension " + data.dimension() + ", model expects " + dimension);
    }
    data.requireLabelsBelow(classes);
    int parameters = classes * dimension + classes;
    if (correction != null && correction.length != parameters) {
      throw new IllegalArgumentException(
          "Cannot train: correction has "
              + correction.length
              + " values, model has "
              + parameters
              + " parameters");
    }
    HeadObjective objective = HeadObjective.of(start, data, settings.balancedLoss());
    float[] stored = new float[parameters];
    System.arraycopy(start.weights(), 0, stored, 0, classes * dimension);
    System.arraycopy(start.bias(), 0, stored, classes * dimension, classes);
    GradientTerm term =
        correction == null ? GradientTerm.NONE : GradientTerm.constant(objective.pack(correction));
    LocalTraining.Result trained =
        LocalTraining.train(objective, stored, data, settings, term, progress);
    Head head = (Head) objective.classifier(trained.parameters());
    Head.Evaluation evaluation = head.evaluate(data);
    return new Result(head, trained.steps(), evaluation.loss(), evaluation.accuracy());
  }
}
