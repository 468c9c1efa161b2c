package fedlake.core.client;

/**
 * Turns a gradient into a step of the parameters. It sees the gradient after the client algorithm
 * added its term; both vectors are in the objective's working layout.
 */
public interface Optimizer {
  /** Updates {@code parameters} in place from {@code gradient} (which it may overwrite). */
  void step(float[] parameters, float[] gradient);
}
