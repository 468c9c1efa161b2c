package fedlake.core.client;

import fedlake.core.model.Classifier;
import fedlake.core.model.Head;

/**
 * A site's personalised model under FedDAT: its local head and a shared head (the federation's
 * global model) scored together as the dual-adapter teacher, {@code logits = (shared(x) + local(x))
 * / 2}.
 */
public final class PersonalHead implements Classifier {
  private final Head shared;
  private final Head local;
  private final double[] scratch;

  public PersonalHead(Head shared, Head local) {
    if (shared.dimension() != local.dimension() || shared.classCount() != local.classCount()) {
      throw new IllegalArgumentException(
          "The local head ("
              + local.classCount()
              + " x "
              + local.dimension()
              + ") does not fit the shared head ("
              + shared.classCount()
              + " x "
              + shared.dimension()
              + ")");
    }
    this.shared = shared;
    this.local = local;
    this.scratch = new double[shared.classCount()];
  }

  public Head shared() {
    return shared;
  }

  public Head local() {
    return local;
  }

  @Override
  public int dimension() {
    return shared.dimension();
  }

  @Override
  public int classCount() {
    return shared.classCount();
  }

  @Override
  public void logits(float[] features, int offset, double[] out) {
    shared.logits(features, offset, out);
    local.logits(features, offset, scratch);
    for (int c = 0; c < out.length && c < scratch.length; c++) {
      out[c] = 0.5 * (out[c] + scratch[c]);
    }
  }
}
