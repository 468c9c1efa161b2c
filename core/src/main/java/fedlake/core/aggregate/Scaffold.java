package fedlake.core.aggregate;

import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import fedlake.schema.Update;

/**
 * SCAFFOLD (Karimireddy et al. 2020): FedAvg of the parameters, plus a server control variate
 * {@code c} that sites use to correct their local gradients by {@code c - c_i}. The next control
 * variate is {@code c + sum_k n_k dc_k / sum_k n_k} over the accepted updates, where {@code dc_k} is
 * the change of site k's own control variate (an update without one counts as no change).
 */
public final class Scaffold implements Strategy {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "scaffold";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Accumulator newAccumulator(Model base) {
    return new Sum(Models.parameters(base).length);
  }

  static final class Sum implements Accumulator {
    private static final long serialVersionUID = 1L;
    private final FedAvg.Sum parameters;
    private final ExactSum controlDeltas;
    private long totalWeight;

    Sum(int size) {
      parameters = new FedAvg.Sum(size);
      controlDeltas = new ExactSum(size);
    }

    @Override
    public void add(Update update, float[] values) {
      parameters.add(update, values);
      long weight = update.getNumExamples();
      int i = 0;
      for (Float delta : update.getControlDelta()) {
        controlDeltas.add(i++, delta, weight);
      }
      totalWeight += weight;
    }

    @Override
    public Accumulator merge(Accumulator other) {
      Sum that = (Sum) other;
      parameters.merge(that.parameters);
      controlDeltas.merge(that.controlDeltas);
      totalWeight += that.totalWeight;
      return this;
    }

    @Override
    public int count() {
      return parameters.count();
    }

    @Override
    public float[] result(Model base) {
      return parameters.result(base);
    }

    @Override
    public float[] controlVariate(Model base) {
      if (count() == 0) {
        return null;
      }
      float[] current = base.getControlVariate().isEmpty()
          ? new float[controlDeltas.size()]
          : FloatArrays.toArray(base.getControlVariate());
      float[] next = new float[current.length];
      for (int i = 0; i < next.length; i++) {
        next[i] = (float) (current[i] + controlDeltas.get(i) / totalWeight);
      }
      return next;
    }
  }
}
