package fedlake.jobs.cli;

import fedlake.core.cli.Args;
import fedlake.core.cli.Option;
import fedlake.core.client.ForwardOnlySettings;
import fedlake.core.client.ForwardOnlySpecs;
import fedlake.jobs.simulation.SimulateBudgets;
import fedlake.schema.ClientSpec;
import fedlake.schema.SiteBudgetSpec;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The spec options of forward-only training and site budgets ({@code init}, {@code spec set}):
 * {@code --optimizer}, {@code --fo-*} and {@code --budgets NAME=BUDGET,...} (docs/forward-only.md).
 */
final class ForwardOnlyOptions {
  static final List<Option> OPTIONS =
      List.of(
          Option.value(
              "optimizer",
              "O",
              "how sites train: backprop (default) or forward-only (SPSA, uploads seed + scalars)"),
          Option.value(
              "fo-perturbation",
              "E",
              "forward-only perturbation scale (default "
                  + ForwardOnlySettings.PERTURBATION_DEFAULT
                  + ")"),
          Option.value(
              "fo-learning-rate",
              "LR",
              "forward-only step size (default " + ForwardOnlySettings.LEARNING_RATE_DEFAULT + ")"),
          Option.value(
              "fo-directions",
              "D",
              "forward-only perturbations a step (default "
                  + ForwardOnlySettings.DIRECTIONS_DEFAULT
                  + ")"),
          Option.value(
              "fo-steps",
              "T",
              "forward-only steps a round (default " + ForwardOnlySettings.STEPS_DEFAULT + ")"),
          Option.value(
              "fo-batch-size",
              "B",
              "forward-only rows a step (default " + ForwardOnlySettings.BATCH_SIZE_DEFAULT + ")"),
          Option.value(
              "fo-candidates",
              "C",
              "forward-only directions a step evaluates, of which it applies and uploads the"
                  + " --fo-directions of largest |scalar| with their indices (at most "
                  + ForwardOnlySettings.MAX_CANDIDATES
                  + "; default: the directions, no choice)"),
          Option.value(
              "budgets",
              "NAME=BUDGET,...",
              "per site id or site class (edge train --site-class): N local steps, backprop,"
                  + " forward-only or forward-only:N; 'none' clears them"));

  private ForwardOnlyOptions() {}

  /** Applies the options given to {@code client}; bad values are one-line errors. */
  static void apply(Args args, ClientSpec client) {
    if (args.has("optimizer")) {
      String optimizer = args.required("optimizer").toLowerCase(Locale.ROOT);
      ForwardOnlySpecs.forwardOnly(optimizer, "--optimizer");
      client.setOptimizer(optimizer);
    }
    boolean any =
        List.of(
                "fo-perturbation",
                "fo-learning-rate",
                "fo-directions",
                "fo-steps",
                "fo-batch-size",
                "fo-candidates")
            .stream()
            .anyMatch(args::has);
    if (any) {
      ForwardOnlySettings now = ForwardOnlySpecs.settings(client);
      ForwardOnlySettings next;
      try {
        int directions = args.integer("fo-directions", now.directions());
        next =
            new ForwardOnlySettings(
                args.number("fo-perturbation", now.perturbation()),
                args.number("fo-learning-rate", now.learningRate()),
                directions,
                args.integer("fo-steps", now.steps()),
                args.integer("fo-batch-size", now.batchSize()),
                args.integer("fo-candidates", now.chooses() ? now.candidates() : directions));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--fo-*: " + e.getMessage(), e);
      }
      client.setForwardOnly(SimulateBudgets.spec(next));
    }
    if (args.has("budgets")) {
      client.setBudgets(budgets(args.required("budgets")));
    }
  }

  /** {@code NAME=BUDGET,...}, or {@code none}. */
  static Map<String, SiteBudgetSpec> budgets(String text) {
    Map<String, SiteBudgetSpec> map = new TreeMap<>();
    if (text.trim().equalsIgnoreCase("none")) {
      return map;
    }
    for (String entry : text.split(",", -1)) {
      int eq = entry.indexOf('=');
      String name = eq < 0 ? "" : entry.substring(0, eq).trim();
      if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
        throw new IllegalArgumentException(
            "--budgets: entry '"
                + entry
                + "' is not NAME=BUDGET with NAME a site id or class (letters, digits, '.', '_',"
                + " '-')");
      }
      SiteBudgetSpec budget;
      try {
        budget = fedlake.jobs.simulation.SimulateBudgets.parse(entry.substring(eq + 1).trim());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            e.getMessage().replace("simulate: --budgets", "--budgets"));
      }
      map.put(name, budget);
    }
    return map;
  }
}
