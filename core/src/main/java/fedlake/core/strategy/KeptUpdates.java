package fedlake.core.strategy;

import java.util.ArrayList;
import java.util.List;

/**
 * A fold that keeps a copy of every update, for rules that need the whole round before they can use
 * any update (medians, trimmed means, Krum, adaptive clipping). Memory: K x P floats, twice that
 * with control deltas.
 */
public final class KeptUpdates implements Fold {
  private static final long serialVersionUID = 1L;
  private final List<UpdateParameters> updates = new ArrayList<>();

  @Override
  public void add(UpdateParameters update) {
    updates.add(
        new UpdateParameters(
            update.site(),
            update.numExamples(),
            update.localSteps(),
            update.parameters().clone(),
            update.controlDelta().clone()));
  }

  @Override
  public Fold merge(Fold other) {
    updates.addAll(((KeptUpdates) other).updates);
    return this;
  }

  @Override
  public int count() {
    return updates.size();
  }

  /** The updates, in the order they were added (callers order them). */
  public List<UpdateParameters> updates() {
    return List.copyOf(updates);
  }
}
