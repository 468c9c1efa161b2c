package fedlake.core.model;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/** Conversions between the boxed lists of the Avro classes and primitive arrays. */
public final class FloatArrays {
  private FloatArrays() {}

  public static float[] toArray(List<Float> list) {
    if (list instanceof View view) {
      return view.values.clone();
    }
    float[] values = new float[list.size()];
    int i = 0;
    for (Float v : list) {
      values[i++] = v;
    }
    return values;
  }

  /** A list view of {@code values} without copying or boxing them all up front. */
  public static List<Float> asList(float[] values) {
    return new View(values);
  }

  public static List<Long> asList(long[] values) {
    return java.util.Arrays.stream(values).boxed().toList();
  }

  public static long[] toLongArray(List<Long> list) {
    return list.stream().mapToLong(Long::longValue).toArray();
  }

  private static final class View extends AbstractList<Float> implements RandomAccess {
    private final float[] values;

    View(float[] values) {
      this.values = values;
    }

    @Override
    public Float get(int index) {
      return values[index];
    }

    @Override
    public int size() {
      return values.length;
    }
  }
}
