package fedlake.core.client;

/** What a client algorithm adds to every step's gradient before the optimizer sees it. */
@FunctionalInterface
public interface GradientTerm {
  /**
   * Adds the term over {@code [from, parameters.length)}; vectors in the objective's working
   * layout.
   */
  void add(float[] parameters, float[] gradient, int from);

  GradientTerm NONE = (parameters, gradient, from) -> {};

  /** A constant shift (SCAFFOLD's {@code c - c_i}), in the objective's working layout. */
  static GradientTerm constant(float[] shift) {
    return (parameters, gradient, from) -> {
      for (int i = from; i < gradient.length; i++) {
        gradient[i] += shift[i];
      }
    };
  }

  /**
   * FedProx's term, the gradient of {@code mu/2 |w - anchor|^2}: {@code mu (w - anchor)}; anchor in
   * the working layout.
   */
  static GradientTerm proximal(double mu, float[] anchor) {
    float m = (float) mu;
    return (parameters, gradient, from) -> {
      for (int i = from; i < gradient.length; i++) {
        gradient[i] += m * (parameters[i] - anchor[i]);
      }
    };
  }
}
