package fedlake.jobs.simulation;

import fedlake.core.cli.Args;
import fedlake.core.cli.Option;
import fedlake.core.client.ForwardOnlySettings;
import fedlake.core.client.ForwardOnlySpecs;
import fedlake.jobs.cli.SpecCommands;
import fedlake.schema.ClientSpec;
import fedlake.schema.ForwardOnlySpec;
import fedlake.schema.SiteBudgetSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Heterogeneous sites in a simulation (docs/forward-only.md): the spec's optimizer and forward-only
 * settings, and {@code --budgets B1,B2,...}, one budget per site class {@code class-0, class-1,
 * ...}, the sites assigned to the classes in turn (site s to class s mod k). A budget is a number
 * of local steps (backprop), {@code backprop}, {@code forward-only}, or {@code forward-only:N}.
 */
public record SimulateBudgets(
    String optimizer, ForwardOnlySettings forwardOnly, List<SiteBudgetSpec> budgets) {
  /** simulate's options of heterogeneous sites; the forward-only settings are the spec's. */
  public static final List<Option> OPTIONS =
      List.of(
          SpecCommands.option("optimizer")
              .withHelp(
                  "how sites train: backprop (default) or forward-only (two-point SPSA; the update"
                      + " travels as a seed and one scalar per step and direction: docs/forward-only.md)"),
          SpecCommands.option("fo-perturbation"),
          SpecCommands.option("fo-learning-rate"),
          SpecCommands.option("fo-directions"),
          SpecCommands.option("fo-steps"),
          SpecCommands.option("fo-batch-size"),
          SpecCommands.option("fo-candidates"),
          SpecCommands.option("budgets")
              .withHelp(
                  "one budget per site class, sites assigned in turn: N local steps (backprop),"
                      + " backprop, forward-only or forward-only:N (e.g. 1,20 or backprop,forward-only)"));

  public SimulateBudgets {
    ForwardOnlySpecs.forwardOnly(optimizer, "simulate: --optimizer");
  }

  public static SimulateBudgets none() {
    return new SimulateBudgets(
        ForwardOnlySpecs.BACKPROP, ForwardOnlySettings.defaults(), List.of());
  }

  static SimulateBudgets fromArgs(Args args) {
    ForwardOnlySettings d = ForwardOnlySettings.defaults();
    ForwardOnlySettings forward;
    try {
      int directions = args.integer("fo-directions", d.directions());
      forward =
          new ForwardOnlySettings(
              args.number("fo-perturbation", d.perturbation()),
              args.number("fo-learning-rate", d.learningRate()),
              directions,
              args.integer("fo-steps", d.steps()),
              args.integer("fo-batch-size", d.batchSize()),
              args.integer("fo-candidates", directions));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("simulate: " + e.getMessage(), e);
    }
    List<SiteBudgetSpec> budgets = new ArrayList<>();
    if (args.has("budgets")) {
      for (String entry : args.required("budgets").split(",", -1)) {
        budgets.add(parse(entry.trim()));
      }
    }
    return new SimulateBudgets(
        args.string("optimizer", ForwardOnlySpecs.BACKPROP), forward, List.copyOf(budgets));
  }

  /** One budget of {@code --budgets}. */
  public static SiteBudgetSpec parse(String entry) {
    String bad =
        "simulate: --budgets entry '"
            + entry
            + "' is not a number of local steps >= 1, backprop, forward-only or forward-only:N";
    String optimizer = null;
    String steps = entry;
    String id = entry.toLowerCase(Locale.ROOT);
    if (id.equals(ForwardOnlySpecs.BACKPROP) || id.equals(ForwardOnlySpecs.FORWARD_ONLY)) {
      return new SiteBudgetSpec(null, id);
    }
    if (id.startsWith(ForwardOnlySpecs.FORWARD_ONLY + ":")) {
      optimizer = ForwardOnlySpecs.FORWARD_ONLY;
      steps = entry.substring(ForwardOnlySpecs.FORWARD_ONLY.length() + 1);
    }
    try {
      int n = Integer.parseInt(steps);
      if (n < 1) {
        throw new IllegalArgumentException(bad);
      }
      return new SiteBudgetSpec(n, optimizer);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(bad);
    }
  }

  /** The class of site {@code s}, null without budgets. */
  String siteClass(int s) {
    return budgets.isEmpty() ? null : "class-" + (s % budgets.size());
  }

  /** Writes the optimizer, forward-only settings and budgets into the spec's client record. */
  void apply(ClientSpec client) {
    client.setOptimizer(optimizer.toLowerCase(Locale.ROOT));
    client.setForwardOnly(spec(forwardOnly));
    Map<String, SiteBudgetSpec> map = new TreeMap<>();
    for (int i = 0; i < budgets.size(); i++) {
      map.put("class-" + i, budgets.get(i));
    }
    client.setBudgets(map);
  }

  /** The spec record of {@code settings}: candidates null when they equal the directions. */
  public static ForwardOnlySpec spec(ForwardOnlySettings settings) {
    return new ForwardOnlySpec(
        settings.perturbation(),
        settings.learningRate(),
        settings.directions(),
        settings.steps(),
        settings.batchSize(),
        settings.chooses() ? settings.candidates() : null);
  }

  /** One line for the log, null when every site trains alike by backprop. */
  String describe() {
    if (budgets.isEmpty() && optimizer.equalsIgnoreCase(ForwardOnlySpecs.BACKPROP)) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < budgets.size(); i++) {
      SiteBudgetSpec b = budgets.get(i);
      parts.add(
          "class-"
              + i
              + ": "
              + (b.getOptimizer() == null ? optimizer : b.getOptimizer())
              + (b.getLocalSteps() == null ? "" : ", at most " + b.getLocalSteps() + " steps"));
    }
    return String.format(
        Locale.ROOT,
        "budgets: optimizer %s (forward-only: %d steps x %d directions%s, perturbation %s,"
            + " learning rate %s, batch %d)%s",
        optimizer,
        forwardOnly.steps(),
        forwardOnly.directions(),
        forwardOnly.chooses() ? " of " + forwardOnly.candidates() + " candidates" : "",
        forwardOnly.perturbation(),
        forwardOnly.learningRate(),
        forwardOnly.batchSize(),
        parts.isEmpty()
            ? ""
            : "; " + String.join("; ", parts) + " (site s in class s mod " + budgets.size() + ")");
  }
}
