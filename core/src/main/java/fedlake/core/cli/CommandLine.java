package fedlake.core.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A command's options and usage text from one list of declarations: free text lines (the {@code
 * usage: fedlake CMD ...} header, section headings, notes) interleaved with {@link Option}s, in the
 * order the usage prints them. {@link #parse} builds the {@link Args} parser from the same options,
 * so an option cannot be parsed without being documented or documented without being parsed.
 * Immutable: every {@code with}/{@code text} returns a new instance.
 */
public final class CommandLine {
  private final String command;
  private final List<Object> parts; // String (a usage line) or Option

  private CommandLine(String command, List<Object> parts) {
    this.command = command;
    this.parts = List.copyOf(parts);
  }

  /**
   * @param command the name errors start with, such as {@code init} or {@code edge train}
   * @param header the first usage lines, such as {@code usage: fedlake init --store URI ...}
   */
  public static CommandLine of(String command, String... header) {
    return new CommandLine(command, List.of((Object[]) header));
  }

  /** Free usage lines (a heading or a note), printed as they are. */
  public CommandLine text(String... lines) {
    List<Object> next = new ArrayList<>(parts);
    next.addAll(List.of(lines));
    return new CommandLine(command, next);
  }

  public CommandLine with(Option... options) {
    return with(List.of(options));
  }

  public CommandLine with(Collection<Option> options) {
    List<Object> next = new ArrayList<>(parts);
    next.addAll(options);
    return new CommandLine(command, next);
  }

  /** Declares an option that takes a value. */
  public CommandLine value(String name, String placeholder, String help) {
    return with(Option.value(name, placeholder, help));
  }

  /** Declares a flag. */
  public CommandLine flag(String name, String help) {
    return with(Option.flag(name, help));
  }

  public String command() {
    return command;
  }

  /** Every option, in declaration order. */
  public List<Option> options() {
    return parts.stream().filter(Option.class::isInstance).map(Option.class::cast).toList();
  }

  /** Parses {@code argv} against the declared options; errors start with the command name. */
  public Args parse(String[] argv) {
    return parse(command, argv);
  }

  /** As {@link #parse(String[])}, with errors starting with {@code name} (such as "spec set"). */
  public Args parse(String name, String[] argv) {
    return Args.parse(name, argv, options());
  }

  /** The usage text: the lines and one line per option, in declaration order. */
  public String usage() {
    List<String> lines = new ArrayList<>();
    for (Object part : parts) {
      lines.add(part instanceof Option o ? o.usage() : (String) part);
    }
    return String.join("\n", lines);
  }

  @Override
  public String toString() {
    return usage();
  }
}
