package fedlake.core.train;

import fedlake.core.data.Dataset;
import fedlake.core.model.CacheModel;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.schema.Model;

/**
 * Local training of a stored model of any kind: a head with {@link LocalTrainer}, a cache model
 * with {@link CacheTrainer}. Parameters in and out are laid out as {@link Models#parameters(Model)}
 * (weights, bias, cache keys), so callers such as the edge runner handle both kinds alike.
 */
public final class ModelTrainer {
  private ModelTrainer() {}

  /** Trained parameters of one site; {@code cacheKeys} is empty for a head. */
  public record Result(
      float[] weights, float[] bias, float[] cacheKeys, int steps, double loss, double accuracy) {
    /** All parameters, laid out as {@link Models#parameters(Model)}. */
    public float[] parameters() {
      float[] all = new float[weights.length + bias.length + cacheKeys.length];
      System.arraycopy(weights, 0, all, 0, weights.length);
      System.arraycopy(bias, 0, all, weights.length, bias.length);
      System.arraycopy(cacheKeys, 0, all, weights.length + bias.length, cacheKeys.length);
      return all;
    }
  }

  /**
   * Trains {@code model} on {@code data}.
   *
   * @param correction SCAFFOLD correction {@code c - c_i} laid out like the parameters, or null
   * @throws IllegalArgumentException for a kind this runner cannot train
   */
  public static Result train(
      Model model,
      Dataset data,
      TrainSettings settings,
      float[] correction,
      LocalTrainer.Progress progress) {
    switch (model.getKind()) {
      case Models.HEAD -> {
        LocalTrainer.Result trained =
            LocalTrainer.train(Models.head(model), data, settings, correction, progress);
        Head head = trained.head();
        return new Result(
            head.weights(),
            head.bias(),
            new float[0],
            trained.steps(),
            trained.loss(),
            trained.accuracy());
      }
      case Models.CACHE -> {
        CacheTrainer.Result trained =
            CacheTrainer.train(
                Models.cache(model), data, settings, CacheTrainer.TRAIN_HEAD, correction, progress);
        CacheModel cache = trained.model();
        return new Result(
            cache.head().weights(),
            cache.head().bias(),
            cache.keys(),
            trained.steps(),
            trained.loss(),
            trained.accuracy());
      }
      default ->
          throw new IllegalArgumentException(
              "Cannot train model "
                  + model.getVersion()
                  + ": kind '"
                  + model.getKind()
                  + "' is not supported (expected '"
                  + Models.HEAD
                  + "' or '"
                  + Models.CACHE
                  + "')");
    }
  }
}
