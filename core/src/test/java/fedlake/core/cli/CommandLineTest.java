package fedlake.core.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** One declaration per option gives both the parser and the usage text. */
class CommandLineTest {
  private static final Option STORE = Option.value("store", "URI", "the store");
  private static final CommandLine COMMAND =
      CommandLine.of("history", "usage: fedlake history --store URI [--audit ROUND]")
          .with(STORE)
          .value("audit", "ROUND", "print that round's audit")
          .text("  output:")
          .flag("quiet", "no progress output");

  @Test
  void usageHasTheHeaderTheTextAndOneLinePerOptionInOrder() {
    assertEquals(
        String.join(
            "\n",
            "usage: fedlake history --store URI [--audit ROUND]",
            "  --store URI              the store",
            "  --audit ROUND            print that round's audit",
            "  output:",
            "  --quiet                  no progress output"),
        COMMAND.usage());
    assertEquals(
        List.of("store", "audit", "quiet"), COMMAND.options().stream().map(Option::name).toList());
  }

  @Test
  void theParserTakesTheDeclaredOptions() {
    Args args = COMMAND.parse(new String[] {"--store", "s", "--audit=3", "--quiet"});
    assertEquals("s", args.required("store"));
    assertEquals(3, args.integer("audit", 0));
    assertTrue(args.flag("quiet"));
    Args none = COMMAND.parse(new String[] {"--store", "s"});
    assertFalse(none.has("audit"));
    assertFalse(none.flag("quiet"));
  }

  @Test
  void anUnknownOptionNamesTheCommandAndEveryKnownOption() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> COMMAND.parse(new String[] {"--store", "s", "--round", "2"}));
    assertEquals(
        "history: unknown option --round (known: --audit, --quiet, --store)", e.getMessage());
    IllegalArgumentException named =
        assertThrows(
            IllegalArgumentException.class,
            () -> COMMAND.parse("history now", new String[] {"--audit"}));
    assertEquals("history now: option --audit needs a value", named.getMessage());
  }

  @Test
  void withHelpKeepsTheNameAndValueAndTheCommandStaysUnchanged() {
    Option own = STORE.withHelp("store to use (default: a temporary folder)");
    assertEquals("store", own.name());
    assertEquals("URI", own.value());
    CommandLine longer = COMMAND.with(Option.flag("extra", "one more"));
    assertEquals(3, COMMAND.options().size());
    assertEquals(4, longer.options().size());
    assertTrue(longer.usage().endsWith("\n  --extra                  one more"));
  }
}
