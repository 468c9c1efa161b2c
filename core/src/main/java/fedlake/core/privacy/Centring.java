package fedlake.core.privacy;

import fedlake.core.data.Dataset;
import fedlake.core.model.Models;
import fedlake.schema.Model;
import fedlake.schema.ModelKind;

/**
 * The coordinates in which central DP clips and noises a head, and in which its sites train: inputs
 * {@code x - c} for a public centre {@code c} and the bias {@code b_c = b + s W c}, so that {@code
 * s W (x - c) + b_c = s W x + b} (s the logit scale). The model files keep the usual head; only the
 * geometry changes.
 *
 * <p>Why: CLIP embeddings share a large common component. Isotropic noise on W along it shifts
 * every input's logit of a class by the same amount, a random bias per class, and a site's change
 * spends its clipped norm along it. Centred on a public mean embedding, the noise lands where
 * inputs differ (docs/privacy.md, "Centring"). The map between the two coordinate systems is linear
 * and public, so clipping the centred change scales the stored change by the same factor, and
 * mapping the noisy centred sum back is post-processing: the accountant is unchanged.
 */
public final class Centring implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  private final float[] centre;
  private final int classes;
  private final int dimension;
  private final float logitScale;

  private Centring(float[] centre, int classes, int dimension, float logitScale) {
    this.centre = centre;
    this.classes = classes;
    this.dimension = dimension;
    this.logitScale = logitScale;
  }

  /**
   * The centring of {@code model} under {@code centre} (the spec's privacy.centre); null when the
   * centre is empty. A centre of the wrong length or a model that is not a head is an error.
   */
  public static Centring of(java.util.List<Float> centre, Model model) {
    if (centre == null || centre.isEmpty()) {
      return null;
    }
    if (Models.kind(model) != ModelKind.HEAD) {
      throw new IllegalArgumentException(
          "privacy.centre applies to heads only; model "
              + model.getVersion()
              + " is a "
              + model.getKind()
              + " model (clear the centre: fedlake spec set --dp-centre none)");
    }
    if (centre.size() != model.getDimension()) {
      throw new IllegalArgumentException(
          "privacy.centre has "
              + centre.size()
              + " values but model "
              + model.getVersion()
              + " has dimension "
              + model.getDimension());
    }
    float[] c = new float[centre.size()];
    for (int j = 0; j < c.length; j++) {
      c[j] = centre.get(j);
      if (!Float.isFinite(c[j])) {
        throw new IllegalArgumentException("privacy.centre holds a non-finite value at " + j);
      }
    }
    return new Centring(c, model.getClassCount(), model.getDimension(), model.getLogitScale());
  }

  /**
   * The L2 norm of {@code change} (a head's stored parameters, weights then bias, minus the base's)
   * in centred coordinates: {@code |dW|^2 + sum_k (db_k + s dW_k . c)^2}.
   */
  public double norm(float[] change) {
    double squares = 0;
    int bias = classes * dimension;
    for (int k = 0; k < classes; k++) {
      double dot = 0;
      for (int j = 0; j < dimension; j++) {
        double w = change[k * dimension + j];
        squares += w * w;
        dot += w * centre[j];
      }
      double b = change[bias + k] + logitScale * dot;
      squares += b * b;
    }
    return Math.sqrt(squares);
  }

  /**
   * Maps a change given in centred coordinates to stored ones in place: {@code db_k -= s dW_k . c}.
   */
  public void toStored(double[] change) {
    int bias = classes * dimension;
    for (int k = 0; k < classes; k++) {
      double dot = 0;
      for (int j = 0; j < dimension; j++) {
        dot += change[k * dimension + j] * centre[j];
      }
      change[bias + k] -= logitScale * dot;
    }
  }

  /** The inputs in centred coordinates: every row minus the centre. */
  public Dataset shift(Dataset data) {
    float[] features = data.features();
    float[] shifted = new float[features.length];
    for (int i = 0; i < shifted.length; i++) {
      shifted[i] = features[i] - centre[i % dimension];
    }
    return data.withFeatures(shifted);
  }

  /** {@code model} with its bias moved to centred coordinates, {@code b + s W c}. */
  public Model centred(Model model) {
    return Model.newBuilder(model).setBias(centredBias(model)).build();
  }

  /**
   * Moves the bias of trained head parameters (weights then bias, in centred coordinates) back to
   * stored ones in place: {@code b = b_c - s W c}.
   */
  public void toStored(float[] parameters) {
    int bias = classes * dimension;
    for (int k = 0; k < classes; k++) {
      parameters[bias + k] = (float) (parameters[bias + k] - logitScale * dot(parameters, k));
    }
  }

  private java.util.List<Float> centredBias(Model model) {
    float[] parameters = Models.parameters(model);
    java.util.List<Float> bias = new java.util.ArrayList<>(classes);
    for (int k = 0; k < classes; k++) {
      bias.add((float) (parameters[classes * dimension + k] + logitScale * dot(parameters, k)));
    }
    return bias;
  }

  private double dot(float[] weights, int row) {
    double dot = 0;
    for (int j = 0; j < dimension; j++) {
      dot += (double) weights[row * dimension + j] * centre[j];
    }
    return dot;
  }
}
