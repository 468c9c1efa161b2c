package fedlake.core.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options of the form {@code --name value} and {@code --flag}. An option given twice
 * keeps its last value ({@link #all} returns every value, for repeatable options such as {@code
 * --conf}). Unknown options, missing values and malformed numbers raise {@link
 * IllegalArgumentException} with a one-line message.
 */
public final class Args {
  private final String command;
  private final Map<String, String> values = new LinkedHashMap<>();
  private final Map<String, List<String>> allValues = new LinkedHashMap<>();
  private final List<String> positional = new ArrayList<>();

  /**
   * @param options names (without dashes) that take a value
   * @param flags names that take none
   */
  public Args(String command, String[] args, Set<String> options, Set<String> flags) {
    this.command = command;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        positional.add(arg);
        continue;
      }
      String name = arg.substring(2);
      String inline = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        inline = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (flags.contains(name) && inline == null) {
        values.put(name, "true");
      } else if (options.contains(name)) {
        if (inline == null) {
          if (i + 1 >= args.length) {
            throw new IllegalArgumentException(command + ": option --" + name + " needs a value");
          }
          inline = args[++i];
        }
        values.put(name, inline);
        allValues.computeIfAbsent(name, key -> new ArrayList<>()).add(inline);
      } else {
        List<String> known = new ArrayList<>(options);
        known.addAll(flags);
        known.sort(null);
        throw new IllegalArgumentException(
            command
                + ": unknown option --"
                + name
                + " (known: --"
                + String.join(", --", known)
                + ")");
      }
    }
  }

  /** Parses {@code args} against {@code options}: the valued ones take a value, flags none. */
  public static Args parse(String command, String[] args, Collection<Option> options) {
    return new Args(command, args, Option.valued(options), Option.flags(options));
  }

  public List<String> positional() {
    return positional;
  }

  /** Every value given for a repeatable option, in command-line order; empty when absent. */
  public List<String> all(String name) {
    return List.copyOf(allValues.getOrDefault(name, List.of()));
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  public boolean flag(String name) {
    return values.containsKey(name);
  }

  public String string(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  public String required(String name) {
    String value = values.get(name);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(command + ": missing required option --" + name);
    }
    return value;
  }

  public int integer(String name, int fallback) {
    String value = values.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          command + ": --" + name + " expects a whole number, got '" + value + "'");
    }
  }

  public long longValue(String name, long fallback) {
    String value = values.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          command + ": --" + name + " expects a whole number, got '" + value + "'");
    }
  }

  public double number(String name, double fallback) {
    String value = values.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      double parsed = Double.parseDouble(value.trim());
      if (!Double.isFinite(parsed)) {
        throw new NumberFormatException();
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          command + ": --" + name + " expects a number, got '" + value + "'");
    }
  }
}
