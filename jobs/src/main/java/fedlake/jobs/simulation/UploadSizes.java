package fedlake.jobs.simulation;

import fedlake.edge.EdgeTrain;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Mean upload sizes of a simulation's sites, forward-only and backprop apart. */
final class UploadSizes {
  private final long[] count = new long[2];
  private final long[] files = new long[2];
  private final long[] parameters = new long[2];

  synchronized void add(EdgeTrain.Result result) {
    int i = result.forwardOnly() ? 1 : 0;
    count[i]++;
    files[i] += Math.max(0, result.uploadBytes());
    parameters[i] += result.parameterBytes();
  }

  /** One line per kind of site that uploaded. */
  synchronized List<String> describe() {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      if (count[i] > 0) {
        lines.add(
            String.format(
                Locale.ROOT,
                "uploads, %s: %d, mean %.0f bytes of parameters (%s), mean file %.0f bytes",
                i == 1 ? "forward-only" : "backprop",
                count[i],
                (double) parameters[i] / count[i],
                i == 1 ? "seed, step size, directions, scalars and any indices" : "floats",
                (double) files[i] / count[i]));
      }
    }
    return lines;
  }
}
