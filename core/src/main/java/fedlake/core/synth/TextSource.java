package fedlake.core.synth;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Samples around each class's text embedding on the unit sphere: {@code normalise(t_c + noise)}
 * with isotropic Gaussian noise whose per-coordinate deviation is {@code noise / sqrt(dimension)},
 * so the noise vector has length about {@code noise} against the unit text embedding.
 */
public final class TextSource implements SyntheticSource {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "text";
  public static final double NOISE_DEFAULT = 0.5;

  private final TextEmbeddings text;
  private final double noise;

  public TextSource(TextEmbeddings text, double noise) {
    if (!(noise >= 0) || !Double.isFinite(noise)) {
      throw new IllegalArgumentException(
          "text noise scale must be a finite number >= 0, got " + noise);
    }
    this.text = text;
    this.noise = noise;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int dimension() {
    return text.dimension();
  }

  @Override
  public int classCount() {
    return text.classCount();
  }

  @Override
  public boolean covers(int classId) {
    return classId >= 0 && classId < text.classCount();
  }

  @Override
  public ClassEmbeddings embeddings(int classId, int count, SplittableRandom random) {
    int d = text.dimension();
    float[] centre = text.row(classId);
    float[] rows = new float[count * d];
    double sigma = noise / Math.sqrt(d);
    for (int r = 0; r < count; r++) {
      for (int j = 0; j < d; j++) {
        rows[r * d + j] = (float) (centre[j] + sigma * Seeds.gaussian(random));
      }
    }
    Seeds.normaliseRows(rows, d);
    return new ClassEmbeddings(classId, d, rows);
  }

  @Override
  public Map<String, String> parameters() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("text", text.source());
    p.put("noise", String.format(Locale.ROOT, "%s", noise));
    return p;
  }
}
