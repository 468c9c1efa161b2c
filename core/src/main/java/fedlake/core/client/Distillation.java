package fedlake.core.client;

/**
 * Temperature-softened knowledge distillation: {@code w KL(softmax(t / T) || softmax(s / T))} of a
 * student's logits s towards a teacher's t. The teacher is a constant: no gradient flows into it.
 * The gradient with respect to the student's logits is {@code (w / T) (softmax(s / T) - softmax(t /
 * T))}. Hinton et al. (2015) scale the KL by {@code T^2}; measured on oxford_pets with the sites'
 * learning rate (0.3, logit scale 10) that scaling made local training unstable (the shared head's
 * local loss rose to 5-15 and the global model fell 14 points behind), so fedlake leaves it out:
 * {@code w T^2} is the weight to give for Hinton's form.
 */
public final class Distillation {
  private Distillation() {}

  /**
   * Adds {@code scale} times the gradient of every row's loss with respect to the student's logits
   * into {@code dStudent} and returns the loss summed over the {@code count} rows. Softmaxes in
   * double; {@code p} and {@code q} are scratch rows of at least {@code classes}.
   */
  public static double softKl(
      float[][] teacher,
      float[][] student,
      int count,
      int classes,
      double temperature,
      double weight,
      double scale,
      double[] p,
      double[] q,
      float[][] dStudent) {
    if (weight == 0) {
      return 0;
    }
    double inverse = 1 / temperature;
    double lossFactor = weight;
    double gradientFactor = weight * inverse * scale;
    double loss = 0;
    for (int r = 0; r < count; r++) {
      double logZt = logSoftmax(teacher[r], classes, inverse, p);
      double logZs = logSoftmax(student[r], classes, inverse, q);
      double kl = 0;
      float[] d = dStudent[r];
      for (int c = 0; c < classes; c++) {
        double logP = p[c] - logZt;
        double logQ = q[c] - logZs;
        double pc = Math.exp(logP);
        kl += pc * (logP - logQ);
        d[c] += (float) (gradientFactor * (Math.exp(logQ) - pc));
      }
      loss += lossFactor * kl;
    }
    return loss;
  }

  /**
   * Writes {@code z[c] / T} into {@code out} and returns their log-sum-exp, so that {@code out[c] -
   * result} is the log of the softened softmax.
   */
  static double logSoftmax(float[] z, int classes, double inverseTemperature, double[] out) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < classes; c++) {
      double v = z[c] * inverseTemperature;
      out[c] = v;
      max = Math.max(max, v);
    }
    double sum = 0;
    for (int c = 0; c < classes; c++) {
      sum += Math.exp(out[c] - max);
    }
    return max + Math.log(sum);
  }
}
