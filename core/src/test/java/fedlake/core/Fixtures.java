package fedlake.core;

import fedlake.core.model.FloatArrays;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.util.Arrays;
import java.util.UUID;

/** Small models and updates with hand-picked parameters for the core tests. */
public final class Fixtures {
  private Fixtures() {}

  /**
   * A round-0 head model of cluster {@code cluster} with the given parameters and logit scale 10.
   */
  public static Model headModel(
      int cluster, int dimension, int classCount, float[] weights, float[] bias) {
    return Models.initialHead(
        new Head(dimension, classCount, Models.DEFAULT_LOGIT_SCALE, weights, bias),
        cluster,
        "init",
        false,
        0L);
  }

  /** A round-0 zero head. */
  public static Model zeroModel(int dimension, int classCount) {
    return headModel(
        0, dimension, classCount, new float[dimension * classCount], new float[classCount]);
  }

  /**
   * A valid update of {@code base} from {@code site} carrying {@code weights} and {@code bias}; its
   * histogram puts every example in class 0. Tests change single fields through the builder.
   */
  public static Update.Builder update(
      Model base, String site, long examples, float[] weights, float[] bias) {
    long[] histogram = new long[base.getClassCount()];
    histogram[0] = examples;
    return Update.newBuilder()
        .setUpdateId(
            UUID.nameUUIDFromBytes((site + examples + Arrays.toString(weights)).getBytes())
                .toString())
        .setSite(site)
        .setRound(base.getRound())
        .setCluster(base.getCluster())
        .setBaseModelVersion(base.getVersion())
        .setKind(base.getKind())
        .setDimension(base.getDimension())
        .setClassCount(base.getClassCount())
        .setNumExamples(examples)
        .setLocalEpochs(1)
        .setLocalSteps(1)
        .setWeights(FloatArrays.asList(weights))
        .setBias(FloatArrays.asList(bias))
        .setLocalLoss(0.5)
        .setLocalAccuracy(0.75)
        .setLabelHistogram(FloatArrays.asList(histogram))
        .setRunnerVersion("test")
        .setCreatedTime(base.getCreatedTime().plusMillis(1_000));
  }

  public static float[] floats(double... values) {
    float[] result = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      result[i] = (float) values[i];
    }
    return result;
  }
}
