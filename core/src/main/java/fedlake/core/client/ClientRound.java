package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.Model;
import java.util.function.Consumer;

/**
 * One site's local training in a round, engine-neutral: the model's objective, the client
 * algorithm's term, momentum SGD; then the algorithm's outcome (what to upload besides the
 * parameters, what to keep). Reads the site state but writes nothing: the caller commits {@link
 * Result#outcome()}'s state once the update is uploaded.
 */
public final class ClientRound {
  private ClientRound() {}

  /**
   * @param parameters trained parameters, stored layout ({@link Models#parameters})
   * @param loss mean cross-entropy of the trained model on the local data
   * @param seeded a forward-only update as it travels (seed and scalars), null after backprop
   */
  public record Result(
      float[] parameters,
      int weightCount,
      int biasCount,
      int steps,
      double loss,
      double accuracy,
      ClientAlgorithm.Outcome outcome,
      SeededUpdate seeded) {
    public float[] weights() {
      return java.util.Arrays.copyOfRange(parameters, 0, weightCount);
    }

    public float[] bias() {
      return java.util.Arrays.copyOfRange(parameters, weightCount, weightCount + biasCount);
    }

    public float[] cacheKeys() {
      return java.util.Arrays.copyOfRange(parameters, weightCount + biasCount, parameters.length);
    }
  }

  /**
   * Starts the spec's client algorithm for a round from {@code base} (the model's parameters) with
   * the model's control variate and the site's state.
   */
  static ClientAlgorithm.Round begin(
      ClientSettings settings,
      Objective objective,
      Model model,
      float[] base,
      int cluster,
      SiteState state,
      Consumer<String> log) {
    return settings
        .create()
        .begin(
            new ClientAlgorithm.RoundStart(
                objective,
                base,
                FloatArrays.toArray(model.getControlVariate()),
                cluster,
                state,
                log));
  }

  /**
   * The objective of training {@code model} on {@code data}: a head's, or Tip-Adapter-F's for a
   * cache model.
   */
  public static Objective objective(Model model, Dataset data, boolean balancedLoss) {
    return switch (model.getKind()) {
      case Models.HEAD -> HeadObjective.of(Models.head(model), data, balancedLoss);
      case Models.CACHE ->
          CacheObjective.of(Models.cache(model), data, CacheObjective.TRAIN_HEAD, balancedLoss);
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
    };
  }

  public static Result run(
      Model model,
      int cluster,
      Dataset data,
      ClientSettings settings,
      SiteState state,
      Consumer<String> log,
      LocalTrainer.Progress progress) {
    if (settings.budget().forwardOnly() != null) {
      return forwardOnly(model, data, settings, log, progress);
    }
    Objective objective = objective(model, data, settings.train().balancedLoss());
    float[] base = Models.parameters(model);
    ClientAlgorithm.Round round =
        ClientRound.begin(settings, objective, model, base, cluster, state, log);
    TrainSettings train = settings.train();
    LocalTraining.Result trained =
        LocalTraining.train(
            objective,
            MomentumSgd.of(objective, train.learningRate(), train.momentum(), train.weightDecay()),
            base,
            data,
            train,
            round.term(),
            progress,
            settings.budget().maxSteps());
    ClientAlgorithm.Outcome outcome =
        round.finish(trained.parameters(), trained.steps(), settings.train().learningRate());
    Head.Evaluation evaluation = objective.classifier(trained.parameters()).evaluate(data);
    return new Result(
        trained.parameters(),
        model.getWeights().size(),
        model.getBias().size(),
        trained.steps(),
        evaluation.loss(),
        evaluation.accuracy(),
        outcome,
        null);
  }

  /**
   * Forward-only training (SPSA) of a head: plain SGD only (a client algorithm's gradient term
   * cannot be applied without a gradient); the perturbation seed comes from the site's seed and the
   * base model's version, so it differs from round to round.
   */
  private static Result forwardOnly(
      Model model,
      Dataset data,
      ClientSettings settings,
      Consumer<String> log,
      LocalTrainer.Progress progress) {
    if (!Models.HEAD.equals(model.getKind())) {
      throw new IllegalArgumentException(
          "Forward-only training needs a head model; model "
              + model.getVersion()
              + " is a "
              + model.getKind());
    }
    if (settings.algorithm() != ClientAlgorithmName.SGD) {
      throw new IllegalArgumentException(
          "Forward-only training runs with client algorithm sgd only, the spec names "
              + settings.algorithm().name().toLowerCase(java.util.Locale.ROOT));
    }
    ForwardOnlySettings forward = settings.budget().forwardOnly();
    if (settings.budget().localSteps() != null) {
      forward = forward.withSteps(Math.min(forward.steps(), settings.budget().localSteps()));
    }
    HeadObjective objective = HeadObjective.of(Models.head(model), data, false);
    long dataSeed = settings.train().seed();
    long perturbationSeed =
        Perturbations.mix(dataSeed * 31 + model.getVersion().hashCode() + Perturbations.GOLDEN);
    log.accept(settings.budget().describe());
    ForwardOnlyTraining.Result trained =
        ForwardOnlyTraining.train(
            objective,
            Models.parameters(model),
            data,
            forward,
            dataSeed,
            perturbationSeed,
            progress);
    Head.Evaluation evaluation = objective.classifier(trained.parameters()).evaluate(data);
    return new Result(
        trained.parameters(),
        model.getWeights().size(),
        model.getBias().size(),
        trained.steps(),
        evaluation.loss(),
        evaluation.accuracy(),
        ClientAlgorithm.Outcome.NOTHING,
        trained.update());
  }
}
