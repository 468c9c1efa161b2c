package fedlake.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.cli.Args;
import fedlake.core.cli.CommandLine;
import fedlake.core.cli.Option;
import fedlake.jobs.cli.CliRun;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every command's options are declared once, as {@link Option}s from which both its parser and its
 * usage come: no name twice, each option on a usage line of its own, and the parser takes each.
 */
class CommandLinesTest {
  @Test
  void everyCommandIsChecked() {
    List<String> names =
        FedlakeMain.commandLines().stream().map(CommandLine::command).sorted().toList();
    assertEquals(
        List.of(
            "bench cluster",
            "bench robust",
            "bench round",
            "bench train",
            "cluster",
            "current-round",
            "demo",
            "edge keygen",
            "edge secagg",
            "edge train",
            "embed-images",
            "evaluation set",
            "evaluation show",
            "history",
            "init",
            "profiles",
            "report",
            "round",
            "round-ready",
            "simulate",
            "simulate",
            "site add",
            "site list",
            "site revoke",
            "spec",
            "synthesize"),
        names);
  }

  @Test
  void noOptionIsDeclaredTwiceInACommand() {
    Map<String, List<String>> twice = new TreeMap<>();
    for (CommandLine command : FedlakeMain.commandLines()) {
      Map<String, Long> counts =
          command.options().stream()
              .collect(Collectors.groupingBy(Option::name, TreeMap::new, Collectors.counting()));
      List<String> repeated =
          counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
      if (!repeated.isEmpty()) {
        twice.put(
            command.command() + " (" + command.usage().lines().findFirst().get() + ")", repeated);
      }
    }
    assertEquals(Map.of(), twice, "options declared more than once");
  }

  @Test
  void everyDeclaredOptionHasAUsageLineOfItsOwn() {
    Map<String, List<String>> missing = new LinkedHashMap<>();
    for (CommandLine command : FedlakeMain.commandLines()) {
      String usage = command.usage();
      assertTrue(usage.startsWith("usage: fedlake " + command.command().split(" ")[0]), usage);
      for (Option option : command.options()) {
        String line =
            "(?m)^  --"
                + Pattern.quote(option.name())
                + (option.isFlag() ? "" : " " + Pattern.quote(option.value()))
                + " +\\S";
        if (!Pattern.compile(line).matcher(usage).find()) {
          missing.computeIfAbsent(command.command(), k -> new ArrayList<>()).add(option.name());
        }
      }
    }
    assertEquals(Map.of(), missing, "options without their usage line");
  }

  @Test
  void theParserTakesEveryDeclaredOption() {
    for (CommandLine command : FedlakeMain.commandLines()) {
      List<String> argv = new ArrayList<>();
      for (Option option : command.options()) {
        argv.add("--" + option.name());
        if (!option.isFlag()) {
          argv.add("v-" + option.name());
        }
      }
      Args args = command.parse(argv.toArray(String[]::new));
      for (Option option : command.options()) {
        assertTrue(args.has(option.name()), command.command() + " --" + option.name());
        if (!option.isFlag()) {
          assertEquals("v-" + option.name(), args.required(option.name()));
        }
      }
    }
  }

  @Test
  void anUnknownOptionIsOneLineListingTheKnownOnes() {
    CliRun history = CliRun.of("history", "--store", "/nowhere", "--rounds", "3");
    assertEquals(2, history.code());
    assertEquals(
        "fedlake history: history: unknown option --rounds (known: --audit, --conf, --store)\n",
        history.err());
    CliRun site = CliRun.of("site", "revoke", "--public-key", "k.pub");
    assertEquals(2, site.code());
    assertEquals(
        "fedlake site: site revoke: unknown option --public-key (known: --conf, --key, --site,"
            + " --store)\n",
        site.err());
    CliRun demo = CliRun.of("demo", "--calibrate=yes");
    assertEquals(2, demo.code());
    assertEquals(
        "fedlake demo: demo: unknown option --calibrate (known: --alpha, --calibrate, --dir,"
            + " --learning-rate, --local-epochs, --rounds, --seed, --sites)\n",
        demo.err());
  }

  @Test
  void helpPrintsTheDeclaredUsage() {
    CliRun help = CliRun.of("round", "--help");
    assertEquals(0, help.code());
    assertTrue(
        help.out()
            .startsWith(
                "usage: fedlake round --store URI [--round R] [--master M] [--conf KEY=VALUE]"),
        help.out());
    assertTrue(help.out().contains("\n  --calibration-epochs E "), help.out());
    assertTrue(help.out().contains("\n  --conf KEY=VALUE "), help.out());
    assertTrue(help.out().contains("[--deploy-mode cluster]"), help.out());
  }
}
