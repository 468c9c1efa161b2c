package fedlake.core.aggregate;

import fedlake.core.model.Models;
import fedlake.schema.Model;
import fedlake.schema.Update;

/** FedAvg: the mean of the updates' parameters weighted by their number of examples. */
public final class FedAvg implements Strategy {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "fedavg";

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
    private final ExactSum sum;
    private long totalWeight;
    private int count;

    Sum(int size) {
      sum = new ExactSum(size);
    }

    @Override
    public void add(Update update, float[] parameters) {
      long weight = update.getNumExamples();
      for (int i = 0; i < parameters.length; i++) {
        sum.add(i, parameters[i], weight);
      }
      totalWeight += weight;
      count++;
    }

    @Override
    public Accumulator merge(Accumulator other) {
      Sum that = (Sum) other;
      sum.merge(that.sum);
      totalWeight += that.totalWeight;
      count += that.count;
      return this;
    }

    @Override
    public int count() {
      return count;
    }

    @Override
    public float[] result(Model base) {
      if (count == 0) {
        return null;
      }
      float[] mean = new float[sum.size()];
      for (int i = 0; i < mean.length; i++) {
        mean[i] = (float) (sum.get(i) / totalWeight);
      }
      return mean;
    }
  }
}
