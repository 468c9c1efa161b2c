package fedlake.core.cluster;

import fedlake.core.model.Models;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.SiteProfile;
import fedlake.schema.Update;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a site's profile from one validated update and the model it was trained from: the label
 * histogram normalised to sum 1, the projected unit direction of (update - base), and, when the
 * site reported class statistics, the projected count-weighted mean of its class means.
 */
public final class ProfileBuilder implements Serializable {
  private static final long serialVersionUID = 1L;
  private final RandomProjection projection;

  public ProfileBuilder(RandomProjection projection) {
    this.projection = projection;
  }

  public RandomProjection projection() {
    return projection;
  }

  /**
   * @param origin the federation's initial model (round 0, cluster 0), the common reference of
   *     {@code position}
   * @param choiceInformative whether the models the site could choose among differed (see {@link
   *     SiteProfile#getChoiceInformative()})
   */
  public SiteProfile build(
      Update update, Model base, Model origin, boolean choiceInformative, long now) {
    float[] parameters = Models.parameters(update);
    float[] reference = Models.parameters(base);
    float[] start = Models.parameters(origin);
    if (start.length != parameters.length) {
      throw new IllegalArgumentException(
          "Cannot profile update "
              + update.getUpdateId()
              + " of site "
              + update.getSite()
              + ": it has "
              + parameters.length
              + " parameters, the federation's initial model "
              + origin.getVersion()
              + " has "
              + start.length);
    }
    if (parameters.length != reference.length) {
      throw new IllegalArgumentException(
          "Cannot profile update "
              + update.getUpdateId()
              + " of site "
              + update.getSite()
              + ": it has "
              + parameters.length
              + " parameters, its base model "
              + base.getVersion()
              + " has "
              + reference.length);
    }
    double[] delta = new double[parameters.length];
    for (int i = 0; i < delta.length; i++) {
      delta[i] = (double) parameters[i] - reference[i];
    }
    double norm = RandomProjection.normalise(delta);
    double[] direction = projection.project(delta);
    RandomProjection.normalise(direction);
    // Trained from the initial model itself, position would repeat direction: leave it out (the
    // cluster job
    // then clusters on the histogram and the direction, which all measure from the same model).
    double[] position = new double[0];
    if (!java.util.Arrays.equals(reference, start)) {
      double[] moved = new double[parameters.length];
      for (int i = 0; i < moved.length; i++) {
        moved[i] = (double) parameters[i] - start[i];
      }
      RandomProjection.normalise(moved);
      position = projection.project(moved);
      RandomProjection.normalise(position);
    }

    return SiteProfile.newBuilder()
        .setRound(update.getRound())
        .setSite(update.getSite())
        .setCluster(update.getCluster())
        .setClusterChoice(update.getClusterChoice())
        .setChoiceInformative(choiceInformative)
        .setUpdateId(update.getUpdateId())
        .setBaseModelVersion(update.getBaseModelVersion())
        .setNumExamples(update.getNumExamples())
        .setLabelHistogram(histogram(update.getLabelHistogram()))
        .setDirection(floats(direction))
        .setUpdateNorm(norm)
        .setPosition(floats(position))
        .setEmbeddingMean(embeddingMean(update.getClassStatistics(), base.getDimension()))
        .setProjectionSeed(projection.seed())
        .setCreatedTime(Instant.ofEpochMilli(now))
        .build();
  }

  /** Counts divided by their sum; all zeros when nothing was counted. */
  public static List<Float> histogram(List<Long> counts) {
    double total = 0;
    for (Long c : counts) {
      total += c;
    }
    List<Float> shares = new ArrayList<>(counts.size());
    for (Long c : counts) {
      shares.add(total == 0 ? 0f : (float) (c / total));
    }
    return shares;
  }

  private List<Float> embeddingMean(List<ClassStatistics> statistics, int dimension) {
    if (statistics == null || statistics.isEmpty()) {
      return null;
    }
    double[] mean = new double[dimension];
    for (ClassStatistics s : statistics) {
      List<Float> m = s.getMean();
      for (int j = 0; j < dimension; j++) {
        mean[j] += s.getCount() * (double) m.get(j);
      }
    }
    RandomProjection.normalise(mean);
    double[] projected = projection.project(mean);
    RandomProjection.normalise(projected);
    return floats(projected);
  }

  static List<Float> floats(double[] values) {
    List<Float> list = new ArrayList<>(values.length);
    for (double v : values) {
      list.add((float) v);
    }
    return list;
  }
}
