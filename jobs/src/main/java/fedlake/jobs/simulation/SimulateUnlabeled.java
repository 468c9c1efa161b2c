package fedlake.jobs.simulation;

import fedlake.core.cli.Args;
import fedlake.core.cli.Option;
import fedlake.core.client.UnlabeledRound;
import fedlake.edge.EdgeTrain;
import fedlake.jobs.cli.SpecCommands;
import fedlake.schema.ClientSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The unlabeled sites of a simulation (docs/unlabeled.md): {@code --unlabeled all|F} makes all
 * sites, or a share F of them drawn with the seed, train without their labels (FST-CBDG); their
 * labels, hidden from training, audit the pseudo-labels every round. {@code --drop-unlabeled} is
 * the baseline of a mixed federation: the same labelled sites trained alone (the unlabeled ones do
 * not take part).
 */
public final class SimulateUnlabeled {
  /** The pseudo-label settings (the spec's client.unlabeled), without the spec's --labels. */
  static final List<Option> SETTINGS =
      SpecCommands.UNLABELED.stream().filter(o -> !o.name().equals("labels")).toList();

  /** simulate's options of unlabeled sites. */
  public static final List<Option> OPTIONS =
      Stream.concat(
              Stream.of(
                  Option.value(
                      "unlabeled",
                      "all|F",
                      "all sites, or a share F of them (drawn with --seed), train without labels on"
                          + " soft pseudo-labels (needs --text FILE: the round-0 head is zero-shot;"
                          + " docs/unlabeled.md); their hidden labels audit the pseudo-labels each round"),
                  Option.flag(
                      "drop-unlabeled",
                      "baseline: the unlabeled sites do not take part (the labelled sites alone)")),
              SETTINGS.stream())
          .toList();

  private final Set<Integer> unlabeled;
  private final boolean drop;
  private final Args args;
  private final List<String> perRound = new ArrayList<>();

  private SimulateUnlabeled(Set<Integer> unlabeled, boolean drop, Args args) {
    this.unlabeled = unlabeled;
    this.drop = drop;
    this.args = args;
  }

  /** No unlabeled sites. */
  public static SimulateUnlabeled none() {
    return new SimulateUnlabeled(Set.of(), false, null);
  }

  /**
   * The command line with {@code --bootstrap zero-shot} added when {@code --unlabeled} is given
   * without a bootstrap (training without labels starts from the zero-shot head).
   */
  public static String[] withZeroShot(String[] argv) {
    List<String> list = new ArrayList<>(List.of(argv));
    if (list.contains("--unlabeled") && !list.contains("--bootstrap")) {
      list.add("--bootstrap");
      list.add("zero-shot");
    }
    return list.toArray(new String[0]);
  }

  public static SimulateUnlabeled fromArgs(Args args, int sites, long seed) {
    if (!args.has("unlabeled")) {
      for (String o : SETTINGS.stream().map(Option::name).toList()) {
        if (args.has(o)) {
          throw new IllegalArgumentException("simulate: --" + o + " needs --unlabeled all|F");
        }
      }
      if (args.flag("drop-unlabeled")) {
        throw new IllegalArgumentException("simulate: --drop-unlabeled needs --unlabeled F");
      }
      return none();
    }
    String value = args.required("unlabeled");
    double fraction;
    if (value.equals("all")) {
      fraction = 1;
    } else {
      try {
        fraction = Double.parseDouble(value);
      } catch (NumberFormatException e) {
        fraction = Double.NaN;
      }
      if (!(fraction > 0 && fraction <= 1)) {
        throw new IllegalArgumentException(
            "simulate: --unlabeled must be all or a share of the sites in (0, 1], got '"
                + value
                + "'");
      }
    }
    String bootstrap = args.string("bootstrap", null);
    if (!"zero-shot".equals(bootstrap)) {
      throw new IllegalArgumentException(
          "simulate: --unlabeled trains from the zero-shot head: use --bootstrap zero-shot (or"
              + " none) with --text FILE, not --bootstrap "
              + bootstrap);
    }
    Set<Integer> chosen =
        fraction >= 1
            ? new TreeSet<>(java.util.stream.IntStream.range(0, sites).boxed().toList())
            : new TreeSet<>(Attack.attackers(sites, fraction, seed + 104_729));
    boolean drop = args.flag("drop-unlabeled");
    if (drop && chosen.size() == sites) {
      throw new IllegalArgumentException(
          "simulate: --drop-unlabeled with every site unlabeled leaves no site to train");
    }
    return new SimulateUnlabeled(chosen, drop, args);
  }

  /** Whether any site is unlabeled (training without labels, or left out). */
  public boolean any() {
    return !unlabeled.isEmpty();
  }

  /** Whether any site trains without labels. */
  public boolean active() {
    return !unlabeled.isEmpty() && !drop;
  }

  /** Allows training without labels in the spec, with the command line's settings. */
  public void adjust(ClientSpec client) {
    if (active()) {
      client.setUnlabeled(fedlake.schema.UnlabeledSpec.newBuilder().build());
      SpecCommands.applyUnlabeled(args, client);
    }
  }

  /** Whether site {@code s} sits the simulation out (an unlabeled site under --drop-unlabeled). */
  public boolean skips(int s) {
    return drop && unlabeled.contains(s);
  }

  /** Whether site {@code s} trains without its labels. */
  public boolean hides(int s) {
    return !drop && unlabeled.contains(s);
  }

  /** One line for the log's head. */
  public String describe(int sites) {
    return String.format(
        Locale.ROOT,
        "unlabeled: %d of %d sites%s: %s",
        unlabeled.size(),
        sites,
        drop ? " left out (--drop-unlabeled: the labelled sites alone)" : " train without labels",
        unlabeled.stream().map(Simulate::siteName).toList());
  }

  /**
   * Summarises the round's unlabeled sites: pseudo-label accuracy over the rows that trained, and
   * the trained models against the zero-shot head on the sites' hidden labels, and what the round
   * job's prior correction did ({@code history}: the round's row, may be null).
   */
  public void round(
      int round,
      Map<Integer, EdgeTrain.Result> results,
      fedlake.schema.RoundHistory history,
      Consumer<String> log) {
    long selected = 0;
    double right = 0;
    long audited = 0;
    double trained = 0;
    double zero = 0;
    int below = 0;
    int counted = 0;
    for (Map.Entry<Integer, EdgeTrain.Result> e : results.entrySet()) {
      UnlabeledRound.Outcome o = e.getValue().withoutLabels();
      if (o == null) {
        continue;
      }
      counted++;
      if (o.pseudoLabelAccuracy() != null) {
        selected += o.selected();
        right += o.pseudoLabelAccuracy() * o.selected();
      }
      if (o.auditAccuracy() != null) {
        audited += o.auditExamples();
        trained += o.auditAccuracy() * o.auditExamples();
        zero += o.auditZeroShotAccuracy() * o.auditExamples();
        below += o.auditAccuracy() < o.auditZeroShotAccuracy() ? 1 : 0;
      }
    }
    if (counted == 0) {
      return;
    }
    Double prior = history == null ? null : history.getPriorCorrectionMax();
    String line =
        String.format(
                Locale.ROOT,
                "      unlabeled: %d sites, pseudo-label accuracy %.4f on %d rows; local model %.4f vs"
                    + " zero-shot %.4f on %d audit rows (%d sites below)",
                counted,
                selected == 0 ? Double.NaN : right / selected,
                selected,
                audited == 0 ? Double.NaN : trained / audited,
                audited == 0 ? Double.NaN : zero / audited,
                audited,
                below)
            + (prior == null
                ? ""
                : String.format(
                    Locale.ROOT,
                    "; prior correction: largest bias change %.4f, C x largest mean prediction"
                        + " %.3f on %d rows",
                    prior,
                    history.getMeanPredictionMax(),
                    history.getPriorCorrectionRows()));
    perRound.add(
        String.format(
            Locale.ROOT,
            "{\"round\": %d, \"sites\": %d, \"pseudo_label_accuracy\": %.6f, \"selected\": %d,"
                + " \"audit_accuracy\": %.6f, \"audit_zero_shot_accuracy\": %.6f, \"sites_below_zero_shot\": %d,"
                + " \"prior_correction_max\": %s, \"mean_prediction_max\": %s}",
            round + 1,
            counted,
            selected == 0 ? Double.NaN : right / selected,
            selected,
            audited == 0 ? Double.NaN : trained / audited,
            audited == 0 ? Double.NaN : zero / audited,
            below,
            prior == null ? "null" : String.format(Locale.ROOT, "%.6f", prior),
            prior == null
                ? "null"
                : String.format(Locale.ROOT, "%.6f", history.getMeanPredictionMax())));
    log.accept(line);
  }

  /** The per-round summaries as JSON objects, one per round that had unlabeled sites. */
  public List<String> rounds() {
    return List.copyOf(perRound);
  }
}
