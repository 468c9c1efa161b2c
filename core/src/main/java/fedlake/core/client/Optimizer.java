package fedlake.core.client;

/**
 * Turns a gradient into a step of the parameters. It sees the gradient after the client algorithm
 * added its term; both vectors are in the objective's working layout.
 */
public interface Optimizer {
  /**
   * Updates {@code parameters[from..to)} in place from {@code gradient[from..to)} (which it may
   * overwrite); elementwise, so a step may be taken range by range ({@link Objective.Ready}).
   */
  void step(float[] parameters, float[] gradient, int from, int to);

  /** Updates all of {@code parameters} in place from {@code gradient}. */
  default void step(float[] parameters, float[] gradient) {
    step(parameters, gradient, 0, parameters.length);
  }
}
