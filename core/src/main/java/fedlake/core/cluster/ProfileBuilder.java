package fedlake.core.cluster;

import fedlake.core.model.Models;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.SiteProfile;
import fedlake.schema.Update;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

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
   * What a profile takes from an update besides its parameters: the scalars it repeats and what the
   * site reported about its data.
   *
   * @param clusterChoice the cluster the site chose itself, or null
   * @param labelHistogram label counts, empty when the site reported none
   * @param classStatistics the class statistics the update carries, or null
   */
  public record Source(
      int round,
      String site,
      int cluster,
      Integer clusterChoice,
      String updateId,
      String baseModelVersion,
      long numExamples,
      long[] labelHistogram,
      List<ClassStatistics> classStatistics,
      int classCount,
      int dimension) {
    public static Source of(Update update) {
      List<Long> counts = update.getLabelHistogram();
      long[] histogram = new long[counts == null ? 0 : counts.size()];
      for (int i = 0; i < histogram.length; i++) {
        histogram[i] = counts.get(i);
      }
      return new Source(
          update.getRound(),
          update.getSite(),
          update.getCluster(),
          update.getClusterChoice(),
          update.getUpdateId(),
          update.getBaseModelVersion(),
          update.getNumExamples(),
          histogram,
          update.getClassStatistics(),
          update.getClassCount(),
          update.getDimension());
    }
  }

  /**
   * The profile of an update record; see {@link #build(Source, float[], Model, Model, boolean,
   * long)}.
   */
  public SiteProfile build(
      Update update, Model base, Model origin, boolean choiceInformative, long now) {
    return build(
        Source.of(update), Models.parameters(update), base, origin, choiceInformative, now);
  }

  /**
   * @param parameters the update's trainable parameters as {@link Models#parameters} lays them out
   *     (weights, bias, cache keys), decoded
   * @param base the model the site trained
   * @param origin the federation's initial model (round 0, cluster 0), the common reference of
   *     {@code position}
   * @param choiceInformative whether the models the site could choose among differed (see {@link
   *     SiteProfile#getChoiceInformative()})
   */
  public SiteProfile build(
      Source update,
      float[] parameters,
      Model base,
      Model origin,
      boolean choiceInformative,
      long now) {
    float[] reference = parametersOf(base);
    float[] start = parametersOf(origin);
    if (start.length != parameters.length) {
      throw new IllegalArgumentException(
          "Cannot profile update "
              + update.updateId()
              + " of site "
              + update.site()
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
              + update.updateId()
              + " of site "
              + update.site()
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
      centroid = centroid(update, parameters, reference);
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
        .setRound(update.round())
        .setSite(update.site())
        .setCluster(update.cluster())
        .setClusterChoice(update.clusterChoice())
        .setChoiceInformative(choiceInformative)
        .setUpdateId(update.updateId())
        .setBaseModelVersion(update.baseModelVersion())
        .setNumExamples(update.numExamples())
        .setLabelHistogram(histogram(update.labelHistogram()))
        .setDirection(floats(direction))
        .setUpdateNorm(norm)
        .setPosition(floats(position))
        .setEmbeddingMean(embeddingMean(update.classStatistics(), base.getDimension()))
        .setCentroid(centroid)
        .setProjectionSeed(projection.seed())
        .setCreatedTime(Instant.ofEpochMilli(now))
        .build();
  }

  /**
   * Whether a site's choice among {@code models} says anything: false when they all have the same
   * parameters (a fresh federation's clusters).
   */
  public static boolean choiceInformative(java.util.Collection<Model> models) {
    float[] first = null;
    for (Model m : models) {
      float[] p = Models.parameters(m);
      if (first == null) {
        first = p;
      } else if (!java.util.Arrays.equals(first, p)) {
        return true;
      }
    }
    return false;
  }

  // the models a scan profiles against are the same few objects update after update: their
  // parameters are laid out once (by identity; a handful of entries)
  private transient Map<Model, float[]> laidOut;

  private synchronized float[] parametersOf(Model model) {
    if (laidOut == null) {
      laidOut = new IdentityHashMap<>();
    }
    if (laidOut.size() > 64) {
      laidOut.clear();
    }
    return laidOut.computeIfAbsent(model, Models::parameters);
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
  List<Float> centroid(Source update, float[] parameters, float[] base) {
    long[] counts = update.labelHistogram();
    int classes = update.classCount();
    int dimension = update.dimension();
    if (counts.length != classes || parameters.length < (long) classes * dimension) {
      return null;
    }
    double[] sum = new double[dimension];
    double moved = 0;
    int held = 0;
    for (int c = 0; c < classes; c++) {
      boolean holds = counts[c] > 0;
      held += holds ? 1 : 0;
      for (int j = 0; j < dimension; j++) {
        double change = (double) parameters[c * dimension + j] - base[c * dimension + j];
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
  public static List<Float> histogram(long[] counts) {
    double total = 0;
    for (long c : counts) {
      total += c;
    }
    List<Float> shares = new ArrayList<>(counts.length);
    for (long c : counts) {
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
