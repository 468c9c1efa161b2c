package fedlake.jobs.simulation;

import fedlake.core.data.Dataset;
import fedlake.core.model.FloatArrays;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.Update;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * How a malicious site of a simulation spoils its update, so that a defence can be measured. Each
 * attack passes every check of the round job (values within {@code maxAbsValue}, numExamples below
 * 2^39): only robust aggregation can stop it. With x the model the site trained from and y its
 * honestly trained parameters:
 *
 * <ul>
 *   <li>{@code sign-flip}: sends -y (and its control delta negated);
 *   <li>{@code scale}: sends x - s (y - x), s as large as the value limit allows (0.95 of it);
 *   <li>{@code examples}: sends -y and claims 2^39 - 1 examples;
 *   <li>{@code noise}: sends x plus Gaussian noise of standard deviation 1 in every parameter;
 *   <li>{@code label-flip}: trains honestly on labels c -> C - 1 - c;
 *   <li>{@code absent}: sends nothing (not an attack: the reference run in which a defence that
 *       leaves the attackers out has done its best, the honest sites alone).
 * </ul>
 */
public enum Attack {
  SIGN_FLIP,
  SCALE,
  EXAMPLES,
  NOISE,
  LABEL_FLIP,
  ABSENT;

  /** Largest numExamples the round job accepts. */
  static final long MAX_EXAMPLES = (1L << 39) - 1;

  public String id() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The attack named {@code id}; an unknown name raises an error listing the known ones. */
  public static Attack of(String id) {
    List<String> known = new ArrayList<>();
    for (Attack a : values()) {
      if (a.id().equals(id)) {
        return a;
      }
      known.add(a.id());
    }
    throw new IllegalArgumentException(
        "simulate: unknown attack '" + id + "' (known: " + String.join(", ", known) + ")");
  }

  /**
   * The sites that attack: {@code round(fraction * sites)} of them, drawn with {@code seed}, in
   * increasing order.
   */
  public static List<Integer> attackers(int sites, double fraction, long seed) {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException(
          "simulate: --attackers must be a fraction in [0, 1], got " + fraction);
    }
    int count = (int) Math.round(fraction * sites);
    List<Integer> order = new ArrayList<>();
    for (int s = 0; s < sites; s++) {
      order.add(s);
    }
    java.util.Collections.shuffle(order, new Random(seed * 31 + 17));
    List<Integer> chosen = new ArrayList<>(order.subList(0, count));
    chosen.sort(null);
    return chosen;
  }

  /** The data a site of this attack trains on: flipped labels for label-flip, else its own. */
  public Dataset data(Dataset honest, int classes) {
    if (this != LABEL_FLIP) {
      return honest;
    }
    int[] labels = honest.labels().clone();
    for (int i = 0; i < labels.length; i++) {
      labels[i] = classes - 1 - labels[i];
    }
    return Dataset.of(
        honest.source() + " (labels flipped)", honest.features(), labels, honest.dimension());
  }

  /**
   * Rewrites the honestly trained update in {@code file} (a site's upload) in place as this attack
   * would send it; label-flip leaves it alone.
   */
  public void spoil(Store store, String file, double maxAbsValue, long seed) {
    if (this == LABEL_FLIP) {
      return;
    }
    if (this == ABSENT) {
      throw new IllegalStateException("an absent site sends no update to spoil (" + file + ")");
    }
    Update read = new UpdateReader(store.fileSystem().getConf()).read(file);
    Model base = store.readModel(read.getRound(), read.getCluster());
    Update update = fedlake.core.codec.UpdateCodec.decoded(read, base); // attackers send fp32
    float[] w = FloatArrays.toArray(update.getWeights());
    float[] b = FloatArrays.toArray(update.getBias());
    float[] k = FloatArrays.toArray(update.getCacheKeys());
    float[] xw = FloatArrays.toArray(base.getWeights());
    float[] xb = FloatArrays.toArray(base.getBias());
    float[] xk = FloatArrays.toArray(base.getCacheKeys());
    switch (this) {
      case SIGN_FLIP, EXAMPLES -> {
        negate(w);
        negate(b);
        negate(k);
        float[] delta = FloatArrays.toArray(update.getControlDelta());
        negate(delta);
        update.setControlDelta(FloatArrays.asList(delta));
        if (this == EXAMPLES) {
          update.setNumExamples(MAX_EXAMPLES);
        }
      }
      case SCALE -> {
        double change = Math.max(maxAbs(w, xw), Math.max(maxAbs(b, xb), maxAbs(k, xk)));
        double base0 = Math.max(maxAbs(xw), Math.max(maxAbs(xb), maxAbs(xk)));
        double s = change == 0 ? 0 : 0.95 * (maxAbsValue - base0) / change;
        scale(w, xw, -s);
        scale(b, xb, -s);
        scale(k, xk, -s);
      }
      case NOISE -> {
        Random random = new Random(seed);
        noise(w, xw, random);
        noise(b, xb, random);
        noise(k, xk, random);
      }
      default -> throw new IllegalStateException("no parameter attack " + this);
    }
    update.setWeights(FloatArrays.asList(w));
    update.setBias(FloatArrays.asList(b));
    update.setCacheKeys(FloatArrays.asList(k));
    try {
      store.writeUpdate(update);
    } catch (IOException e) {
      throw new UncheckedIOException("simulate: cannot rewrite " + file + ": " + e.getMessage(), e);
    }
  }

  private static void negate(float[] v) {
    for (int i = 0; i < v.length; i++) {
      v[i] = -v[i];
    }
  }

  private static double maxAbs(float[] y, float[] x) {
    double m = 0;
    for (int i = 0; i < y.length; i++) {
      m = Math.max(m, Math.abs((double) y[i] - x[i]));
    }
    return m;
  }

  private static double maxAbs(float[] x) {
    double m = 0;
    for (float v : x) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  private static void scale(float[] y, float[] x, double factor) {
    for (int i = 0; i < y.length; i++) {
      y[i] = (float) (x[i] + factor * ((double) y[i] - x[i]));
    }
  }

  private static void noise(float[] y, float[] x, Random random) {
    for (int i = 0; i < y.length; i++) {
      y[i] = (float) (x[i] + random.nextGaussian());
    }
  }
}
