package fedlake.core.strategy;

import java.io.Serializable;

/**
 * A partial aggregate of some of one cluster's updates. Engines create one per task, add the task's
 * updates, and merge the folds of all tasks; the result must be the same for every order and split.
 */
public interface Fold extends Serializable {
  /**
   * Folds in one accepted update. The arrays are the caller's and may be reused after this returns.
   */
  void add(UpdateParameters update);

  /**
   * Adds everything {@code other} (a fold of the same strategy and base) holds into this one;
   * returns this.
   */
  Fold merge(Fold other);

  /** Number of updates folded in. */
  int count();
}
