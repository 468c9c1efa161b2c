package fedlake.core.client;

import fedlake.core.data.Dataset;
import fedlake.core.model.Classifier;
import java.util.ArrayList;
import java.util.List;

/**
 * A site's soft pseudo-labels for one round (docs/unlabeled.md): the moving average {@code q <-
 * momentum q + (1 - momentum) p} of the received models' predictions per row, kept in the {@link
 * SiteState} ({@value #SOFT_LABELS}, with {@value #SOFT_LABELS_KEY} naming the rows it belongs to),
 * the class-balanced selection of the rows that train (per top class, its {@code topFraction} most
 * confident rows) and their sharpened targets.
 *
 * <p>The key is {@code [rows, classes, h0, h1, h2, h3, round]} with {@code h0..h3} the four 16-bit
 * parts of a 64-bit hash of the rows' embeddings (exact in float32): kept soft labels of other rows
 * (the site's data changed) or another class count are dropped and the average starts again from
 * the received model. A site that skipped rounds averages in the model it receives now, as if it
 * had not skipped (the kept soft labels are older, nothing else changes).
 */
public final class PseudoLabels {
  public static final String SOFT_LABELS = "soft-labels";
  public static final String SOFT_LABELS_KEY = "soft-labels-key";
  private double[] receivedSum;

  private final int rows;
  private final int classes;
  private final float[] soft;
  private final float[] key;
  private final int[] top;
  private final float[] confidence;
  private final float[] selected;
  private final float[] targets;
  private final List<String> notes;

  private PseudoLabels(
      int rows,
      int classes,
      float[] soft,
      float[] key,
      float[] selected,
      float[] targets,
      int[] top,
      float[] confidence,
      List<String> notes) {
    this.rows = rows;
    this.classes = classes;
    this.soft = soft;
    this.key = key;
    this.selected = selected;
    this.targets = targets;
    this.top = top;
    this.confidence = confidence;
    this.notes = notes;
  }

  /**
   * This round's pseudo-labels of {@code data}: the kept average of the cluster (when it belongs to
   * these rows) moved toward {@code received}'s predictions, then selected and sharpened.
   */
  public static PseudoLabels of(
      SiteState state,
      int cluster,
      int round,
      Dataset data,
      Classifier received,
      UnlabeledSettings settings) {
    int n = data.size();
    int classes = received.classCount();
    float[] key = key(data, classes, round);
    List<String> notes = new ArrayList<>();
    float[] kept = state.vector(cluster, SOFT_LABELS);
    float[] keptKey = state.vector(cluster, SOFT_LABELS_KEY);
    boolean usable =
        kept != null
            && keptKey != null
            && keptKey.length == key.length
            && kept.length == (long) n * classes
            && java.util.Arrays.equals(keptKey, 0, 6, key, 0, 6);
    if (kept != null && !usable) {
      notes.add(
          "kept soft labels belong to other rows or classes (the data changed): starting again"
              + " from the received model");
    } else if (kept == null) {
      notes.add("no kept soft labels: starting from the received model's predictions");
    } else {
      notes.add(
          String.format(
              java.util.Locale.ROOT,
              "soft labels kept from round %d moved toward the received model (momentum %s)",
              (long) keptKey[6],
              settings.momentum()));
    }
    float[] soft = predictions(received, data);
    double[] sums = new double[classes];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < classes; c++) {
        sums[c] += soft[i * classes + c];
      }
    }
    if (usable) {
      float m = (float) settings.momentum();
      for (int i = 0; i < soft.length; i++) {
        soft[i] = m * kept[i] + (1 - m) * soft[i];
      }
    }
    PseudoLabels labels = select(n, classes, soft, key, settings, notes);
    labels.receivedSum = sums;
    return labels;
  }

  /**
   * Per class, the sum over the rows of the received model's probability (before the moving
   * average): what the site reports for the server's prior correction; null for labels made
   * otherwise.
   */
  public double[] receivedPredictionSum() {
    return receivedSum;
  }

  /** Selection and targets of given soft labels ({@code rows x classes}). */
  static PseudoLabels select(
      int n,
      int classes,
      float[] soft,
      float[] key,
      UnlabeledSettings settings,
      List<String> notes) {
    int[] top = new int[n];
    float[] confidence = new float[n];
    int[] perClass = new int[classes];
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (soft[i * classes + c] > soft[i * classes + best]) {
          best = c;
        }
      }
      top[i] = best;
      confidence[i] = soft[i * classes + best];
      perClass[best]++;
    }
    // per class, its rows by falling confidence (ties: lower row first); keep ceil(f x count)
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(
        order,
        (a, b) ->
            top[a] != top[b]
                ? Integer.compare(top[a], top[b])
                : confidence[a] != confidence[b]
                    ? Float.compare(confidence[b], confidence[a])
                    : Integer.compare(a, b));
    float[] selected = new float[n];
    int taken = 0;
    for (int k = 0; k < n; k++) {
      int i = order[k];
      taken = k > 0 && top[order[k - 1]] == top[i] ? taken + 1 : 0;
      if (taken < Math.ceil(settings.topFraction() * perClass[top[i]] - 1e-9)) {
        selected[i] = 1;
      }
    }
    float[] targets = new float[soft.length];
    double power = 1 / settings.temperature();
    for (int i = 0; i < n; i++) {
      double sum = 0;
      int at = i * classes;
      double max = confidence[i];
      for (int c = 0; c < classes; c++) {
        double v = Math.pow(soft[at + c] / max, power);
        targets[at + c] = (float) v;
        sum += v;
      }
      for (int c = 0; c < classes; c++) {
        targets[at + c] = (float) (targets[at + c] / sum);
      }
    }
    return new PseudoLabels(n, classes, soft, key, selected, targets, top, confidence, notes);
  }

  /** The received model's softmax of every row, row-major {@code rows x classes}. */
  static float[] predictions(Classifier model, Dataset data) {
    int classes = model.classCount();
    int d = data.dimension();
    float[] out = new float[data.size() * classes];
    double[] z = new double[classes];
    for (int i = 0; i < data.size(); i++) {
      model.logits(data.features(), i * d, z);
      double max = Double.NEGATIVE_INFINITY;
      for (double v : z) {
        max = Math.max(max, v);
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        z[c] = Math.exp(z[c] - max);
        sum += z[c];
      }
      for (int c = 0; c < classes; c++) {
        out[i * classes + c] = (float) (z[c] / sum);
      }
    }
    return out;
  }

  /** {@code [rows, classes, h0, h1, h2, h3, round]}: which rows the soft labels belong to. */
  static float[] key(Dataset data, int classes, int round) {
    long h = 0xcbf29ce484222325L;
    float[] x = data.features();
    for (float v : x) {
      h ^= Float.floatToIntBits(v);
      h *= 0x100000001b3L;
      h ^= h >>> 29;
    }
    return new float[] {
      data.size(),
      classes,
      (float) (h & 0xFFFF),
      (float) ((h >>> 16) & 0xFFFF),
      (float) ((h >>> 32) & 0xFFFF),
      (float) ((h >>> 48) & 0xFFFF),
      round
    };
  }

  /** What to keep in the site state for the cluster once the update is uploaded. */
  public java.util.Map<String, float[]> state() {
    java.util.Map<String, float[]> keep = new java.util.LinkedHashMap<>();
    keep.put(SOFT_LABELS, soft.clone());
    keep.put(SOFT_LABELS_KEY, key.clone());
    return keep;
  }

  /** Row-major {@code rows x classes} moving average of the predictions. */
  public float[] soft() {
    return soft.clone();
  }

  /** Row-major sharpened targets. */
  public float[] targets() {
    return targets;
  }

  /** Per row, 1 when it trains this round, else 0. */
  public float[] selected() {
    return selected;
  }

  /** Per row, the top class of its soft label. */
  public int[] top() {
    return top.clone();
  }

  public int rows() {
    return rows;
  }

  public int classes() {
    return classes;
  }

  /** Rows that train this round. */
  public int selectedCount() {
    int k = 0;
    for (float s : selected) {
      k += s > 0 ? 1 : 0;
    }
    return k;
  }

  /** Per class, how many selected rows have it as top class (the update's label histogram). */
  public long[] selectedHistogram() {
    long[] histogram = new long[classes];
    for (int i = 0; i < rows; i++) {
      if (selected[i] > 0) {
        histogram[top[i]]++;
      }
    }
    return histogram;
  }

  /**
   * Accuracy of the selected rows' top classes against {@code labels} (audit labels the site does
   * not train on), over the selected rows that have a label; null when none has.
   */
  public Double accuracy(int[] labels) {
    long right = 0;
    long counted = 0;
    for (int i = 0; i < rows; i++) {
      if (selected[i] > 0 && labels[i] >= 0) {
        counted++;
        right += labels[i] == top[i] ? 1 : 0;
      }
    }
    return counted == 0 ? null : (double) right / counted;
  }

  /** What reading the kept soft labels found, for the log. */
  public List<String> notes() {
    return notes;
  }
}
