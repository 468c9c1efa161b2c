package fedlake.core.synth;

import java.io.Serializable;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where the rows of a synthetic embedding table come from: class text embeddings ({@link
 * TextSource}), pooled site statistics ({@link GaussianSource}) or images (encoded by a frozen
 * image encoder; plugged into {@code fedlake synthesize --source images}). A source only produces
 * the embeddings of one class at a time; {@link SyntheticTable} numbers the rows, records the
 * provenance and writes them. Implementations are serializable so a Spark job can ship them to
 * executors; heavy state (models, factorisations) belongs in transient fields built on first use.
 */
public interface SyntheticSource extends Serializable {
  /**
   * Name recorded in every row and in the provenance: {@code text}, {@code site-stats}, {@code
   * images}.
   */
  String name();

  int dimension();

  /** Number of classes of the federation the table is for. */
  int classCount();

  /**
   * Whether the source has anything for class {@code classId}; classes it does not cover get no
   * rows.
   */
  boolean covers(int classId);

  /**
   * Exactly {@code count} embeddings of class {@code classId}, drawn only from {@code random} (the
   * class's own stream, see {@link Seeds#forClass}), so the rows depend on the seed and class
   * alone.
   */
  ClassEmbeddings embeddings(int classId, int count, SplittableRandom random);

  /** Parameters recorded in the provenance (file names, noise scale, round, ...). */
  Map<String, String> parameters();
}
