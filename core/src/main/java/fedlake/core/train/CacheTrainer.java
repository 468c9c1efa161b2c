package fedlake.core.train;

import fedlake.core.client.CacheObjective;
import fedlake.core.client.GradientTerm;
import fedlake.core.client.LocalTraining;
import fedlake.core.data.Dataset;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;

/**
 * Tip-Adapter-F on a site: minibatch SGD on cross-entropy over the cache model's logits, moving the
 * cache keys (the values, alpha and beta stay fixed), with the settings of {@link LocalTrainer}
 * (epochs, batch size, learning rate, momentum, seed, balanced loss). Optionally the head part is
 * trained too. Weight decay applies to head weights only: pulling keys toward zero would not
 * regularise a cosine affinity.
 *
 * <p>The gradient of the loss L for key k of class c, with {@code cos_k = x . K_k / |K_k|} and
 * {@code a_k = exp(-beta (1 - cos_k))}, is {@code dL/dz_c * alpha * beta * a_k * (x - cos_k
 * K_k/|K_k|) / |K_k|}: only the part of x orthogonal to the key turns it, its length stays (nearly)
 * the same.
 *
 * <p>A thin wrapper: the arithmetic is {@link CacheObjective} trained by {@link LocalTraining}.
 */
public final class CacheTrainer {
  /**
   * Whether sites train the head part of a cache model too (see docs/cache.md for the measurements
   * behind it).
   */
  public static final boolean TRAIN_HEAD = CacheObjective.TRAIN_HEAD;

  private CacheTrainer() {}

  /** Outcome of local training; {@code model} is a trained copy, the input model is unchanged. */
  public record Result(CacheModel model, int steps, double loss, double accuracy) {}

  /**
   * @param trainHead also train the head part (weights and bias); false is Tip-Adapter-F
   * @param correction SCAFFOLD correction {@code c - c_i} laid out as weights, bias, keys, or null
   */
  public static Result train(
      CacheModel start,
      Dataset data,
      TrainSettings settings,
      boolean trainHead,
      float[] correction,
      LocalTrainer.Progress progress) {
    Head head = start.head();
    int dimension = start.dimension();
    if (data.dimension() != dimension) {
      throw new IllegalArgumentException(
          "Cannot train: data has dimension " + data.dimension() + ", model expects " + dimension);
    }
    data.requireLabelsBelow(start.classCount());
    int keyOffset = head.weights().length + head.bias().length;
    int parameters = keyOffset + start.keys().length;
    if (correction != null && correction.length != parameters) {
      throw new IllegalArgumentException(
          "Cannot train: correction has "
              + correction.length
              + " values, model has "
              + parameters
              + " parameters");
    }
    CacheObjective objective = CacheObjective.of(start, data, trainHead, settings.balancedLoss());
    float[] stored = new float[parameters];
    System.arraycopy(head.weights(), 0, stored, 0, head.weights().length);
    System.arraycopy(head.bias(), 0, stored, head.weights().length, head.bias().length);
    System.arraycopy(start.keys(), 0, stored, keyOffset, start.keys().length);
    GradientTerm term =
        correction == null ? GradientTerm.NONE : GradientTerm.constant(objective.pack(correction));
    LocalTraining.Result trained =
        LocalTraining.train(objective, stored, data, settings, term, progress);
    CacheModel model = (CacheModel) objective.classifier(trained.parameters());
    Head.Evaluation evaluation = model.evaluate(data);
    return new Result(model, trained.steps(), evaluation.loss(), evaluation.accuracy());
  }
}
