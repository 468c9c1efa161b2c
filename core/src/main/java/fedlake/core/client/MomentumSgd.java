package fedlake.core.client;

/**
 * SGD with momentum and weight decay: {@code g += decay * w} on the weights only (not bias, not
 * cache keys: pulling keys toward zero would not regularise a cosine affinity), {@code v = momentum
 * * v + g}, {@code w -= lr * v}, over the trained range {@code [from, length)} of the parameters.
 */
public final class MomentumSgd implements Optimizer {
  private final int from;
  private final int decayedTo;
  private final float learningRate;
  private final float momentum;
  private final float weightDecay;
  private final float[] velocity;

  public MomentumSgd(
      int length,
      int from,
      int decayedTo,
      double learningRate,
      double momentum,
      double weightDecay) {
    if (from < 0 || from > length || decayedTo < 0 || decayedTo > length) {
      throw new IllegalArgumentException(
          "Bad optimizer ranges: trained from "
              + from
              + ", decayed to "
              + decayedTo
              + " of "
              + length);
    }
    this.from = from;
    this.decayedTo = decayedTo;
    this.learningRate = (float) learningRate;
    this.momentum = (float) momentum;
    this.weightDecay = (float) weightDecay;
    this.velocity = new float[length];
  }

  /** The optimizer of {@code objective}'s trained parameters. */
  public static MomentumSgd of(
      Objective objective, double learningRate, double momentum, double weightDecay) {
    return new MomentumSgd(
        objective.parameterCount(),
        objective.trainableFrom(),
        objective.decayedTo(),
        learningRate,
        momentum,
        weightDecay);
  }

  @Override
  public void step(float[] parameters, float[] gradient, int lo, int hi) {
    if (parameters.length != velocity.length || gradient.length != velocity.length) {
      throw new IllegalArgumentException(
          "Optimizer of "
              + velocity.length
              + " parameters got "
              + parameters.length
              + " parameters and "
              + gradient.length
              + " gradients");
    }
    if (lo < 0 || hi > velocity.length || lo > hi) {
      throw new IllegalArgumentException(
          "Optimizer of " + velocity.length + " parameters got the range [" + lo + ", " + hi + ")");
    }
    int start = Math.max(lo, from);
    int decayed = Math.min(hi, Math.max(from, Math.min(decayedTo, velocity.length)));
    if (weightDecay != 0f) {
      for (int i = start; i < decayed; i++) {
        gradient[i] += weightDecay * parameters[i];
      }
    }
    if (momentum == 0f) {
      // v = 0 * v + g is g: the same step without keeping a velocity
      for (int i = start; i < hi; i++) {
        parameters[i] -= learningRate * gradient[i];
      }
      return;
    }
    for (int i = start; i < hi; i++) {
      float v = momentum * velocity[i] + gradient[i];
      velocity[i] = v;
      parameters[i] -= learningRate * v;
    }
  }
}
