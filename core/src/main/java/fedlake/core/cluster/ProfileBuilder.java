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
    // cluster job then clusters on the histogram, the direction and the centroid, which all measure
    // from the same model). The centroid is read off only then: later bases carry control variates
    // and other sites' changes that the update cannot be separated from.
    double[] position = new double[0];
    List<Float> centroid = null;
    if (java.util.Arrays.equals(reference, start)) {
      centroid = centroid(update, reference);
    } else {
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
        .setCentroid(centroid)
        .setProjectionSeed(projection.seed())
        .setCreatedTime(Instant.ofEpochMilli(now))
        .build();
  }

  /**
   * Where the site's data lie, from its update alone: the sum over the weight rows of the classes
   * the site holds of (update - base), projected and normalised. A softmax gradient step changes
   * row c by the learning rate times sum over x of (y_c(x) - p_c(x)) x, so the rows of the classes
   * the site holds together change by a sum of its own embeddings weighted by the probability the
   * model gives to the classes it does not hold, which is never negative: the result points at a
   * weighted mean of the site's data (in the first step from a zero head, at the mean itself). The
   * label histogram and the update direction mostly say which labels a site holds; this says where
   * its data are, which is what tells datasets apart when they share label ids. Null when the site
   * holds every class (then the rows' changes add up to zero) or reported no labels.
   */
  List<Float> centroid(Update update, float[] base) {
    List<Float> weights = update.getWeights();
    List<Long> counts = update.getLabelHistogram();
    int classes = update.getClassCount();
    int dimension = update.getDimension();
    if (counts == null || counts.size() != classes || weights.size() != classes * dimension) {
      return null;
    }
    double[] sum = new double[dimension];
    double moved = 0;
    int held = 0;
    for (int c = 0; c < classes; c++) {
      boolean holds = counts.get(c) > 0;
      held += holds ? 1 : 0;
      for (int j = 0; j < dimension; j++) {
        double change = (double) weights.get(c * dimension + j) - base[c * dimension + j];
        moved += change * change;
        if (holds) {
          sum[j] += change;
        }
      }
    }
    if (held == 0 || held == classes) {
      return null;
    }
    double length = RandomProjection.normalise(sum);
    // a sum that cancels to rounding noise carries no direction
    if (!(length > 1e-6 * Math.sqrt(moved))) {
      return null;
    }
    double[] projected = projection.project(sum);
    RandomProjection.normalise(projected);
    return floats(projected);
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
