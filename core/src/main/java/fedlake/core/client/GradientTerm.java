package fedlake.core.client;

/** What a client algorithm adds to every step's gradient before the optimizer sees it. */
@FunctionalInterface
public interface GradientTerm {
  /**
   * Adds the term over {@code [from, to)}; vectors in the objective's working layout. Elementwise:
   * element i reads only element i of each vector.
   */
  void add(float[] parameters, float[] gradient, int from, int to);

  /** Adds the term over {@code [from, gradient.length)}. */
  default void add(float[] parameters, float[] gradient, int from) {
    add(parameters, gradient, from, gradient.length);
  }

  GradientTerm NONE = (parameters, gradient, from, to) -> {};

  /** A constant shift (SCAFFOLD's {@code c - c_i}), in the objective's working layout. */
  static GradientTerm constant(float[] shift) {
    return (parameters, gradient, from, to) -> {
      for (int i = from; i < to; i++) {
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
    return (parameters, gradient, from, to) -> {
      for (int i = from; i < to; i++) {
        gradient[i] += m * (parameters[i] - anchor[i]);
      }
    };
  }
}
