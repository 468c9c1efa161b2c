package fedlake.core.client;

import fedlake.schema.ClientAlgorithmName;
import java.util.Map;

/**
 * SCAFFOLD's client (Karimireddy et al., ICML 2020): every step's gradient is shifted by {@code c -
 * c_i}, the server's control variate (carried by the model) minus the site's (kept in its {@link
 * SiteState} per cluster, under {@link #CONTROL}). After training, option II: {@code c_i+ = c_i - c
 * + (x - y) / (K lr)} with x the round's and y the trained parameters and K the steps; the update
 * carries {@code c_i+ - c_i}, and {@code c_i+} is kept.
 *
 * <p>A site training a cluster it holds no control variate for starts from the one it wrote last,
 * of the cluster it trained before: when the cluster job splits a cluster, the new cluster's server
 * variate is built from its sites' changes relative to exactly that state, so starting from zero
 * would leave the server's variate out of step with the sites'.
 */
public final class ScaffoldClient implements ClientAlgorithm {
  /** Name of the site's control variate in the site state. */
  public static final String CONTROL = "control";

  @Override
  public ClientAlgorithmName name() {
    return ClientAlgorithmName.SCAFFOLD;
  }

  @Override
  public Round begin(RoundStart start) {
    int n = start.base().length;
    float[] server = start.serverControl();
    if (server.length == 0) {
      start
          .log()
          .accept(
              "the model carries no control variate; SCAFFOLD starts from a zero server control variate");
      server = new float[n];
    } else if (server.length != n) {
      throw new IllegalStateException(
          "The model's control variate has "
              + server.length
              + " values but the model has "
              + n
              + " parameters");
    }
    float[] site = siteControl(start, n);
    float[] correction = new float[n];
    for (int i = 0; i < n; i++) {
      correction[i] = server[i] - site[i];
    }
    GradientTerm term = GradientTerm.constant(start.objective().pack(correction));
    float[] c = server;
    return new Round() {
      @Override
      public GradientTerm term() {
        return term;
      }

      @Override
      public Outcome finish(float[] trained, int steps, double learningRate) {
        if (steps == 0) {
          return Outcome.NOTHING;
        }
        float[] base = start.base();
        double step = steps * learningRate;
        float[] next = new float[n];
        float[] delta = new float[n];
        for (int i = 0; i < n; i++) {
          next[i] = (float) (site[i] - c[i] + (base[i] - trained[i]) / step);
          delta[i] = next[i] - site[i];
        }
        return new Outcome(delta, Map.of(CONTROL, next));
      }
    };
  }

  /**
   * The site's control variate for the round's cluster: its own, else carried over from its last
   * cluster, else zeros.
   */
  private static float[] siteControl(RoundStart start, int n) {
    float[] values = start.state().vector(start.cluster(), CONTROL);
    if (values == null) {
      SiteState.Carried carried = start.state().latest(CONTROL);
      if (carried != null) {
        start
            .log()
            .accept(
                "first round in cluster "
                    + start.cluster()
                    + "; starting from its control variate of cluster "
                    + carried.cluster());
        values = carried.values();
      }
    }
    if (values != null && values.length != n) {
      start
          .log()
          .accept(
              "ignoring the kept control variate ("
                  + values.length
                  + " values, model has "
                  + n
                  + " parameters)");
      values = null;
    }
    return values == null ? new float[n] : values;
  }
}
