package fedlake.core.aggregate;

import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.Serializable;

/**
 * How accepted updates of one cluster become the next model. Accumulators hold partial results of
 * bounded size, merge associatively and do not depend on the order of updates, so an engine may
 * fold updates in any order and partitioning.
 */
public interface Strategy extends Serializable {
  /** Name recorded in models and history, such as {@code fedavg}. */
  String name();

  /** The strategy a model chain runs: SCAFFOLD when the model carries a control variate, else FedAvg. */
  static Strategy forModel(Model base) {
    return base.getControlVariate().isEmpty() ? new FedAvg() : new Scaffold();
  }

  /** An empty accumulator for updates of {@code base}. */
  Accumulator newAccumulator(Model base);

  /** Partial aggregate of some updates of one cluster. */
  interface Accumulator extends Serializable {
    /** Folds in one validated update; {@code parameters} are {@link fedlake.core.model.Models#parameters(Update)}. */
    void add(Update update, float[] parameters);

    /** Folds another partial aggregate of the same base model into this one; returns this. */
    Accumulator merge(Accumulator other);

    /** Number of updates folded in. */
    int count();

    /** The aggregated parameters laid out as the base model's, or null when nothing was added. */
    float[] result(Model base);

    /** The next model's control variate, or null to keep the base model's (strategies without one). */
    default float[] controlVariate(Model base) {
      return null;
    }
  }
}
