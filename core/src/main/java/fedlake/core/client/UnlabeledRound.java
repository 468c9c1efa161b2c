package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.synth.TextEmbeddings;
import fedlake.core.synth.TextSource;
import fedlake.core.train.LocalTrainer;
import fedlake.schema.Model;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * One round of a site that trains without labels (FST-CBDG, docs/unlabeled.md): soft pseudo-labels
 * from the received model averaged with the kept ones ({@link PseudoLabels}), the {@link
 * PseudoLabelObjective} with text-Gaussian samples around the class text embeddings (the rows of
 * the zero-shot head of round 0, normalised), trained with the spec's client algorithm like {@link
 * ClientRound}. Labels in the data are never trained on; where rows have them they audit the
 * pseudo-labels and the trained model against the zero-shot head.
 */
public final class UnlabeledRound {
  private UnlabeledRound() {}

  /**
   * @param result the trained parameters and the algorithm's outcome, whose state includes the soft
   *     labels
   * @param selected rows that trained
   * @param pseudoLabelAccuracy accuracy of the selected rows' pseudo-labels against the audit
   *     labels, null without any
   * @param auditExamples rows with audit labels
   * @param auditAccuracy the trained model's accuracy on the audit rows, null without any
   * @param auditZeroShotAccuracy the zero-shot head's accuracy on the same rows, null without any
   * @param pseudoHistogram per class, the selected rows whose pseudo-label it is
   * @param predictionSum per class, the sum over all rows of the received model's probability, for
   *     the server's prior correction; null when the spec's priorCorrection is 0
   */
  public record Outcome(
      ClientRound.Result result,
      int selected,
      Double pseudoLabelAccuracy,
      long auditExamples,
      Double auditAccuracy,
      Double auditZeroShotAccuracy,
      long[] pseudoHistogram,
      float[] predictionSum) {}

  /** Why {@code zeroShot} cannot anchor unlabeled training of {@code model}, or null. */
  public static String unusableAnchor(Model zeroShot, Model model) {
    if (!Models.HEAD.equals(model.getKind()) || !Models.HEAD.equals(zeroShot.getKind())) {
      return "training without labels needs head models (the model is a '" + model.getKind() + "')";
    }
    if (zeroShot.getDimension() != model.getDimension()
        || zeroShot.getClassCount() != model.getClassCount()) {
      return "the round-0 model's shape differs from the current one";
    }
    Head head = Models.head(zeroShot);
    float[] w = head.weights();
    int d = head.dimension();
    for (int c = 0; c < head.classCount(); c++) {
      double squares = 0;
      for (int j = 0; j < d; j++) {
        squares += (double) w[c * d + j] * w[c * d + j];
      }
      if (squares == 0) {
        return "the round-0 model has no weights for class "
            + c
            + ": training without labels needs a zero-shot start (init --bootstrap zero-shot --text FILE)";
      }
    }
    return null;
  }

  public static Outcome run(
      Model model,
      Model zeroShot,
      int cluster,
      int round,
      Dataset data,
      ClientSettings settings,
      UnlabeledSettings unlabeled,
      SiteState state,
      Consumer<String> log,
      LocalTrainer.Progress progress) {
    String why = unusableAnchor(zeroShot, model);
    if (why != null) {
      throw new IllegalStateException("Cannot train without labels: " + why);
    }
    Head received = Models.head(model);
    Head anchor = Models.head(zeroShot);
    PseudoLabels pseudo = PseudoLabels.of(state, cluster, round, data, received, unlabeled);
    pseudo.notes().forEach(log);
    Dataset synthetic =
        textGaussians(
            anchor,
            unlabeled,
            syntheticCount(data.size(), settings.train(), unlabeled),
            settings.train().seed());
    PseudoLabelObjective objective =
        new PseudoLabelObjective(
            received.dimension(),
            received.classCount(),
            received.logitScale(),
            pseudo.targets(),
            pseudo.selected(),
            unlabeled.balance(),
            unlabeled.synthWeight(),
            synthetic,
            unlabeled.synthPerBatch(),
            unlabeled.trust(),
            Models.parameters(zeroShot));
    float[] base = Models.parameters(model);
    ClientAlgorithm.Round algorithm =
        ClientRound.begin(settings, objective, model, base, cluster, state, log);
    LocalTraining.Result trained =
        LocalTraining.train(
            objective,
            base,
            PseudoLabelObjective.indexed(data),
            settings.train(),
            algorithm.term(),
            progress);
    ClientAlgorithm.Outcome outcome =
        algorithm.finish(trained.parameters(), trained.steps(), settings.train().learningRate());
    Map<String, float[]> keep = new LinkedHashMap<>(outcome.state());
    keep.putAll(pseudo.state());
    Head result = (Head) objective.classifier(trained.parameters());
    // local accuracy without labels: agreement of the trained model with the pseudo-labels
    Dataset agreement = Dataset.of(data.source(), data.features(), pseudo.top(), data.dimension());
    Head.Evaluation agree = result.evaluate(agreement);
    Head.Evaluation audit = result.evaluate(data);
    Head.Evaluation zero = anchor.evaluate(data);
    Double pseudoAccuracy = pseudo.accuracy(data.labels());
    log.accept(
        String.format(
            java.util.Locale.ROOT,
            "without labels: %d of %d rows selected (%s)%s",
            pseudo.selectedCount(),
            data.size(),
            unlabeled.describe(),
            audit.examples() == 0
                ? ""
                : String.format(
                    java.util.Locale.ROOT,
                    "; audit on %d labelled rows: pseudo-labels %.4f, trained %.4f, zero-shot %.4f",
                    audit.examples(),
                    pseudoAccuracy,
                    audit.accuracy(),
                    zero.accuracy())));
    ClientRound.Result out =
        new ClientRound.Result(
            trained.parameters(),
            model.getWeights().size(),
            model.getBias().size(),
            trained.steps(),
            Double.isFinite(trained.lastEpochLoss()) ? trained.lastEpochLoss() : agree.loss(),
            agree.accuracy(),
            new ClientAlgorithm.Outcome(outcome.controlDelta(), keep),
            null);
    return new Outcome(
        out,
        pseudo.selectedCount(),
        pseudoAccuracy,
        audit.examples(),
        audit.examples() == 0 ? null : audit.accuracy(),
        audit.examples() == 0 ? null : zero.accuracy(),
        pseudo.selectedHistogram(),
        unlabeled.priorCorrection() > 0 ? toFloats(pseudo.receivedPredictionSum()) : null);
  }

  private static float[] toFloats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  /** Enough samples for every step of the round to see new ones (at most 65,536). */
  static int syntheticCount(int rows, fedlake.core.train.TrainSettings train, UnlabeledSettings u) {
    long steps = (long) Math.ceil((double) rows / train.batchSize()) * train.epochs();
    return (int) Math.min(65_536, Math.max(u.synthPerBatch(), steps * u.synthPerBatch()));
  }

  /**
   * {@code count} samples {@code normalise(t_c + noise)} around the normalised rows of the
   * zero-shot head, classes in seeded permutations (every class once before any twice); null when
   * none are mixed in.
   */
  static Dataset textGaussians(Head zeroShot, UnlabeledSettings u, int count, long seed) {
    if (u.synthWeight() == 0 || u.synthPerBatch() == 0 || count == 0) {
      return null;
    }
    int classes = zeroShot.classCount();
    int d = zeroShot.dimension();
    TextSource source =
        new TextSource(
            TextEmbeddings.of("the round-0 zero-shot head", zeroShot.weights(), classes, d),
            u.synthScale());
    SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    float[] rows = new float[count * d];
    int[] labels = new int[count];
    int[] permutation = LocalTraining.identity(classes);
    for (int k = 0; k < count; k++) {
      if (k % classes == 0) {
        LocalTraining.shuffle(permutation, random);
      }
      int c = permutation[k % classes];
      labels[k] = c;
      System.arraycopy(source.embeddings(c, 1, random).values(), 0, rows, k * d, d);
    }
    return Dataset.of("text-Gaussian samples", rows, labels, d);
  }
}
