package fedlake.core.store;

import fedlake.core.InvalidInputException;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The model pointer: the current round and the version of each cluster's model for that round.
 * Sites train from these models and upload updates for {@link #round()}.
 */
public record Latest(int round, SortedMap<Integer, String> versions) {
  public Latest {
    versions = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(versions));
  }

  public String version(int cluster) {
    String version = versions.get(cluster);
    if (version == null) {
      throw new IllegalArgumentException(
          "Round "
              + round
              + " has no model for cluster "
              + cluster
              + " (clusters with models: "
              + versions.keySet()
              + ")");
    }
    return version;
  }

  String format() {
    StringBuilder text =
        new StringBuilder("# fedlake model pointer: written last, after the model files\n");
    text.append("round=").append(round).append('\n');
    for (Map.Entry<Integer, String> e : versions.entrySet()) {
      text.append("cluster.").append(e.getKey()).append('=').append(e.getValue()).append('\n');
    }
    return text.toString();
  }

  static Latest parse(Properties properties, String file) {
    String round = properties.getProperty("round");
    if (round == null) {
      throw new InvalidInputException(file, "model pointer has no 'round'");
    }
    TreeMap<Integer, String> versions = new TreeMap<>();
    for (String key : properties.stringPropertyNames()) {
      if (key.startsWith("cluster.")) {
        versions.put(
            number(key.substring("cluster.".length()), key, file),
            properties.getProperty(key).trim());
      }
    }
    if (versions.isEmpty()) {
      throw new InvalidInputException(file, "model pointer names no cluster model");
    }
    return new Latest(number(round, "round", file), versions);
  }

  private static int number(String text, String key, String file) {
    try {
      return Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          file,
          "model pointer has a malformed '" + key + "': '" + text + "' is not a whole number");
    }
  }
}
