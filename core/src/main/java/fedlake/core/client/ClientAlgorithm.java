package fedlake.core.client;

import fedlake.schema.ClientAlgorithmName;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What a site does in a round beyond minimising its objective: the term it adds to every step's
 * gradient (none for plain SGD, SCAFFOLD's correction {@code c - c_i}, FedProx's {@code mu (w -
 * w_round)}), what it uploads besides its parameters (SCAFFOLD's control delta) and what it keeps
 * for later rounds in its {@link SiteState}. Named in the federation spec ({@code
 * client.algorithm}); the optimizer and the objective stay the same for every algorithm.
 */
public interface ClientAlgorithm {
  ClientAlgorithmName name();

  /** Starts one round's local training. */
  Round begin(RoundStart start);

  /**
   * What an algorithm may read when a round starts.
   *
   * @param objective the objective being trained (for its working layout)
   * @param base the round's model parameters, stored layout ({@link
   *     fedlake.core.model.Models#parameters})
   * @param serverControl the model's control variate (stored layout), empty when the model has none
   * @param cluster the cluster whose model the site trains
   * @param state what the site kept from earlier rounds
   * @param log where to say what it did (one line a call)
   */
  record RoundStart(
      Objective objective,
      float[] base,
      float[] serverControl,
      int cluster,
      SiteState state,
      Consumer<String> log) {}

  /** One round of an algorithm: its gradient term while training, then its outcome. */
  interface Round {
    GradientTerm term();

    /**
     * @param trained the trained parameters, stored layout
     * @param steps optimizer steps taken
     * @param learningRate the step size they were taken with
     */
    Outcome finish(float[] trained, int steps, double learningRate);
  }

  /**
   * @param controlDelta what the update carries as {@code controlDelta} (stored layout), empty for
   *     none
   * @param state vectors to keep for this cluster in the site state (by name), once the update is
   *     uploaded
   */
  record Outcome(float[] controlDelta, Map<String, float[]> state) {
    public static final Outcome NOTHING = new Outcome(new float[0], Map.of());
  }

  /** The algorithm a spec names; {@code proximalMu} is read by PROX only. */
  static ClientAlgorithm of(ClientAlgorithmName name, double proximalMu) {
    return switch (name) {
      case SGD -> new SgdClient();
      case SCAFFOLD -> new ScaffoldClient();
      case PROX -> new ProxClient(proximalMu);
    };
  }
}
