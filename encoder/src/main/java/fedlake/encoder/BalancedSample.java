package fedlake.encoder;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Picks exactly {@code perClass} images of every class, deterministically from a seed: each class's
 * files are shuffled with a generator seeded by {@code (seed, classId)}; a class with at least
 * {@code perClass} files takes the first {@code perClass} of that order (no repeats), a smaller one
 * cycles through the order again, so its files are used {@code floor(perClass / n)} or one more
 * times each. A repeated file is embedded once; its rows differ only in {@link Pick#id}.
 */
public final class BalancedSample {
  private BalancedSample() {}

  /**
   * One row of the sample: {@code copy} is 0 for the first use of a file in its class, 1 for the
   * second, and so on.
   */
  public record Pick(int classId, String file, int copy) implements Serializable {
    /** Row id: the file's folder and name, with {@code #copy} appended for repeats. */
    public String id() {
      String[] parts = file.split("/");
      String base =
          parts.length >= 2 ? parts[parts.length - 2] + "/" + parts[parts.length - 1] : file;
      return copy == 0 ? base : base + "#" + copy;
    }
  }

  /**
   * Exactly {@code perClass} picks for each class, grouped by class in the order of {@code
   * classes}.
   */
  public static List<Pick> perClass(List<ClassImages> classes, int perClass, long seed) {
    if (perClass < 1) {
      throw new IllegalArgumentException("rows per class must be at least 1, got " + perClass);
    }
    List<Pick> picks = new ArrayList<>(classes.size() * perClass);
    for (ClassImages images : classes) {
      if (images.files().isEmpty()) {
        throw new IllegalArgumentException(
            images.folder() + ": class " + images.classId() + " has no images to sample");
      }
      List<String> order = new ArrayList<>(images.files());
      Collections.shuffle(order, new Random(seed * 1_000_003L + images.classId()));
      for (int i = 0; i < perClass; i++) {
        picks.add(new Pick(images.classId(), order.get(i % order.size()), i / order.size()));
      }
    }
    return picks;
  }

  /** Every file once, in class order: the picks when no balancing is asked for. */
  public static List<Pick> all(List<ClassImages> classes) {
    List<Pick> picks = new ArrayList<>();
    for (ClassImages images : classes) {
      for (String file : images.files()) {
        picks.add(new Pick(images.classId(), file, 0));
      }
    }
    return picks;
  }
}
