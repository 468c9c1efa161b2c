package fedlake.core.strategy;

import fedlake.core.model.FloatArrays;
import fedlake.schema.Model;
import fedlake.schema.StateVector;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Reading and writing the server state a model carries ({@code Model.serverState}). */
public final class ServerState {
  private ServerState() {}

  /**
   * The vector called {@code name} in {@code model}'s state, or null when it has none (first
   * round).
   */
  public static float[] get(Model model, String name) {
    for (StateVector v : model.getServerState()) {
      if (v.getName().equals(name)) {
        return FloatArrays.toArray(v.getValues());
      }
    }
    return null;
  }

  /**
   * The vector called {@code name}, or zeros of {@code size} when the model has none; a stored
   * vector of another length raises {@link IllegalStateException}.
   */
  public static float[] getOrZeros(Model model, String name, int size) {
    float[] values = get(model, name);
    if (values == null) {
      return new float[size];
    }
    if (values.length != size) {
      throw new IllegalStateException(
          "Model "
              + model.getVersion()
              + " holds server state '"
              + name
              + "' of "
              + values.length
              + " values, expected "
              + size);
    }
    return values;
  }

  /** Avro rows for a model file, sorted by name. */
  public static List<StateVector> rows(Map<String, float[]> state) {
    return new TreeMap<>(state)
        .entrySet().stream()
            .map(
                e ->
                    StateVector.newBuilder()
                        .setName(e.getKey())
                        .setValues(FloatArrays.asList(e.getValue()))
                        .build())
            .toList();
  }
}
