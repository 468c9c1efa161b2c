package fedlake.core.client;

import fedlake.core.model.Classifier;

/**
 * The loss a site minimises and its gradient, on a batch of rows, as a function of one flat
 * parameter vector.
 *
 * <p>An objective computes in its own <em>working layout</em> of the parameters, chosen so its hot
 * loops run contiguously (a head keeps its weights transposed, {@code dimension x classes}). {@link
 * #pack} and {@link #unpack} convert from and to the stored layout of {@link
 * fedlake.core.model.Models#parameters} (weights, bias, cache keys). Everything elementwise — the
 * optimizer, a client algorithm's gradient term, a SCAFFOLD correction packed once — works on the
 * working layout unchanged.
 *
 * <p>Parameters before {@link #trainableFrom()} are fixed (their gradient is never written); the
 * ones before {@link #decayedTo()} are the head's weights, the only ones weight decay applies to.
 */
public interface Objective {
  int parameterCount();

  /** First trained parameter (working layout); earlier ones stay as they are. */
  int trainableFrom();

  /** Parameters {@code [0, decayedTo)} (working layout) are weights that take weight decay. */
  int decayedTo();

  /** Stored layout to working layout (a new array). */
  float[] pack(float[] stored);

  /** Working layout to stored layout (a new array). */
  float[] unpack(float[] working);

  /**
   * Loss summed over the rows of {@code batch}; writes the gradient of the batch's <em>mean</em>
   * loss into {@code gradient[trainableFrom..parameterCount)}. Both vectors in the working layout.
   */
  double lossAndGradient(float[] parameters, Batch batch, float[] gradient);

  /**
   * Told that {@code gradient[from..to)} is final (working layout), so that the caller may apply
   * its term and step to those parameters at once.
   */
  @FunctionalInterface
  interface Ready {
    void accept(int from, int to);
  }

  /**
   * As {@link #lossAndGradient(float[], Batch, float[])}, calling {@code ready} for ranges of the
   * gradient as they are finished: together they cover {@code [trainableFrom, parameterCount)}
   * once. From the call on, the computation no longer reads those parameters, so {@code ready} may
   * change them (a fused optimizer step while the range is in the cache). By default one call at
   * the end.
   */
  default double lossAndGradient(float[] parameters, Batch batch, float[] gradient, Ready ready) {
    double loss = lossAndGradient(parameters, batch, gradient);
    ready.accept(trainableFrom(), parameterCount());
    return loss;
  }

  /** The model the stored-layout parameters describe, for scoring. */
  Classifier classifier(float[] stored);
}
