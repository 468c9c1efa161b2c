package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.train.LocalTrainer;
import fedlake.schema.Model;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One site's round under FedDAT personalisation ({@link Personalisation#FEDDAT}): the shared head
 * starts from the round's model, the local head from the one the site kept ({@link #LOCAL_HEAD} in
 * its {@link SiteState}, per cluster; the round's model when it keeps none), and both train
 * together on {@link FedDatObjective} against a frozen copy of the round's model. The spec's client
 * algorithm (SGD, SCAFFOLD, FedProx) acts on the shared head as it would on a plain head: its
 * gradient term is added to the shared part only, and its outcome is computed from the shared part.
 * Only the shared head is uploaded ({@link ClientRound.Result#parameters()}); the local head joins
 * the algorithm's state to be kept once the update is uploaded.
 */
public final class FedDatRound {
  /** Name of the local head (stored layout: weights, bias) in the site state. */
  public static final String LOCAL_HEAD = "local-head";

  private FedDatRound() {}

  /**
   * The site's local head for {@code cluster} as kept in {@code state} (stored layout), carried
   * over from the cluster it trained last when it holds none for this one, or null when it keeps
   * none that fits {@code size} parameters.
   */
  public static float[] keptLocal(SiteState state, int cluster, int size, Consumer<String> log) {
    float[] values = state.vector(cluster, LOCAL_HEAD);
    if (values == null) {
      SiteState.Carried carried = state.latest(LOCAL_HEAD);
      if (carried != null) {
        log.accept(
            "first round in cluster "
                + cluster
                + "; starting from the local head of cluster "
                + carried.cluster());
        values = carried.values();
      }
    }
    if (values != null && values.length != size) {
      log.accept(
          "ignoring the kept local head ("
              + values.length
              + " values, the model has "
              + size
              + " parameters)");
      values = null;
    }
    return values;
  }

  /** The personalised model of a site: {@code shared} with the local head it keeps, or null. */
  public static PersonalHead personalised(Model shared, SiteState state, int cluster) {
    Head head = Models.head(shared);
    float[] local = keptLocal(state, cluster, Models.parameterCount(shared), line -> {});
    if (local == null) {
      return null;
    }
    int weights = head.classCount() * head.dimension();
    return new PersonalHead(
        head,
        new Head(
            head.dimension(),
            head.classCount(),
            head.logitScale(),
            Arrays.copyOf(local, weights),
            Arrays.copyOfRange(local, weights, local.length)));
  }

  public static ClientRound.Result run(
      Model model,
      int cluster,
      Dataset data,
      ClientSettings settings,
      SiteState state,
      Consumer<String> log,
      LocalTrainer.Progress progress) {
    Personalisation mode = settings.personalisation();
    if (mode == null) {
      throw new IllegalArgumentException("FedDAT needs a personalisation mode in the settings");
    }
    if (!Models.HEAD.equals(model.getKind())) {
      throw new IllegalArgumentException(
          "Personalisation "
              + mode.mode()
              + " trains a head; model "
              + model.getVersion()
              + " is a '"
              + model.getKind()
              + "' model");
    }
    Head head = Models.head(model);
    float[] base = Models.parameters(model);
    int size = base.length;
    HeadObjective plain = HeadObjective.of(head, data, settings.train().balancedLoss());
    double[] adjustment =
        settings.train().balancedLoss() ? HeadObjective.logPrior(data, head.classCount()) : null;
    FedDatObjective objective =
        new FedDatObjective(
            head.dimension(), head.classCount(), head.logitScale(), adjustment, base, mode);
    float[] local = keptLocal(state, cluster, size, log);
    if (local == null) {
      log.accept("no local head kept yet; starting it from the round's model");
      local = base.clone();
    }
    ClientAlgorithm.Round round =
        ClientRound.begin(settings, plain, model, base, cluster, state, log);
    float[] start = Arrays.copyOf(base, 2 * size);
    System.arraycopy(local, 0, start, size, size);
    LocalTraining.Result trained =
        LocalTraining.train(
            objective, start, data, settings.train(), sharedOnly(round.term(), size), progress);
    float[] shared = Arrays.copyOf(trained.parameters(), size);
    float[] nextLocal = Arrays.copyOfRange(trained.parameters(), size, 2 * size);
    ClientAlgorithm.Outcome inner =
        round.finish(shared, trained.steps(), settings.train().learningRate());
    Map<String, float[]> keep = new LinkedHashMap<>(inner.state());
    keep.put(LOCAL_HEAD, nextLocal);
    Head.Evaluation evaluation = plain.classifier(shared).evaluate(data);
    Head.Evaluation personal = objective.classifier(trained.parameters()).evaluate(data);
    log.accept(
        String.format(
            java.util.Locale.ROOT,
            "%s: shared head loss %.4f accuracy %.3f, personalised accuracy %.3f on the local rows",
            mode.describe(),
            evaluation.loss(),
            evaluation.accuracy(),
            personal.accuracy()));
    return new ClientRound.Result(
        shared,
        model.getWeights().size(),
        model.getBias().size(),
        trained.steps(),
        evaluation.loss(),
        evaluation.accuracy(),
        new ClientAlgorithm.Outcome(inner.controlDelta(), keep),
        null);
  }

  /** {@code term} applied to the first {@code size} parameters only (the shared head). */
  static GradientTerm sharedOnly(GradientTerm term, int size) {
    if (term == GradientTerm.NONE) {
      return term;
    }
    return (parameters, gradient, from, to) -> {
      int end = Math.min(to, size);
      if (from < end) {
        term.add(parameters, gradient, from, end);
      }
    };
  }
}
