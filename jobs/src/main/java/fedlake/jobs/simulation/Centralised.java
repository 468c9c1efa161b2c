package fedlake.jobs.simulation;

import fedlake.core.data.Dataset;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;

/**
 * Heads trained with every training row in one place: the references simulations set federated runs
 * against.
 */
final class Centralised {
  /** Epochs of a centralised reference head. */
  static final int EPOCHS = 20;

  private Centralised() {}

  /** A head trained from zeros on {@code rows} with the sites' settings for {@link #EPOCHS}. */
  static Head head(Dataset rows, int classes, TrainSettings sites) {
    return LocalTrainer.train(
            Head.zeros(rows.dimension(), classes, Models.DEFAULT_LOGIT_SCALE),
            rows,
            sites.withEpochs(EPOCHS),
            LocalTrainer.Progress.NONE)
        .head();
  }
}
