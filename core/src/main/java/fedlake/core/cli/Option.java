package fedlake.core.cli;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

/**
 * One command-line option, declared once: its name (without dashes), whether it takes a value, and
 * the usage line that documents it. Commands build both their {@link Args} parser and their usage
 * text from the same declarations.
 *
 * @param name lower-case, dash-separated
 * @param value what the value looks like in usage (such as {@code LR}), or null for a flag
 * @param help one line
 */
public record Option(String name, String value, String help) {
  public static Option value(String name, String value, String help) {
    return new Option(name, value, help);
  }

  public static Option flag(String name, String help) {
    return new Option(name, null, help);
  }

  /** The same option with the help of one command (the name and value stay as declared). */
  public Option withHelp(String text) {
    return new Option(name, value, text);
  }

  public boolean isFlag() {
    return value == null;
  }

  /** The usage line: {@code --name VALUE help}. */
  public String usage() {
    String left = "  --" + name + (isFlag() ? "" : " " + value);
    return String.format("%-26s %s", left, help);
  }

  /** Names of the options that take a value. */
  public static Set<String> valued(Collection<Option> options) {
    Set<String> names = new TreeSet<>();
    options.stream().filter(o -> !o.isFlag()).forEach(o -> names.add(o.name()));
    return names;
  }

  /** Names of the flags. */
  public static Set<String> flags(Collection<Option> options) {
    Set<String> names = new TreeSet<>();
    options.stream().filter(Option::isFlag).forEach(o -> names.add(o.name()));
    return names;
  }

  /** One usage line per option. */
  public static String usage(Collection<Option> options) {
    return String.join("\n", options.stream().map(Option::usage).toList());
  }
}
