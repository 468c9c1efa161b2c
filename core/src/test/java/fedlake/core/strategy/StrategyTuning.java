package fedlake.core.strategy;

import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.data.DirichletSplit;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Head;
import fedlake.core.model.Models;
import fedlake.core.train.LocalTrainer;
import fedlake.core.train.TrainSettings;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.Model;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;

/**
 * Not a unit test: a cheap in-process federation for choosing strategy defaults. Splits a data set
 * over sites (Dirichlet label skew), trains every site each round with the core {@link
 * LocalTrainer} at its defaults (SCAFFOLD sites as the edge runner does, option II), folds the
 * updates with the strategy under test and prints the test accuracy of the final model.
 *
 * <p>FedProx sites run plain SGD here (its server side is FedAvg; mu = 0 is FedAvg).
 *
 * <p>{@code -Dfedlake.budgets=1,20} caps the local steps of site s at the (s mod k)-th budget, as
 * {@code simulate --budgets 1,20} does (plain SGD sites only), and prints the accuracy on the
 * classes whose training rows are mostly at the sites with the smallest budget and on the others;
 * {@code -Dfedlake.groups=1,20} splits the classes so in a run with other budgets.
 *
 * <pre>
 * java -cp schemas/target/classes:core/target/classes:core/target/test-classes:$(cat core/cp.txt) fedlake.core.strategy.StrategyTuning \
 *     DATA_DIR SEED ROUNDS 'fedadam:server-lr=0.01,tau=0.001' 'fedavg' ...
 * </pre>
 */
public final class StrategyTuning {
  private static final int SITES = 20;
  private static final double ALPHA = 0.1;
  private static final int[] BUDGETS = budgets("fedlake.budgets", "");
  // which sites count as low-budget in the per-class-group accuracy (an equal-budget run can be
  // split as the unequal one is)
  private static final int[] GROUPS =
      budgets("fedlake.groups", System.getProperty("fedlake.budgets", ""));

  private static int[] budgets(String property, String fallback) {
    String text = System.getProperty(property, fallback);
    return text.isEmpty()
        ? new int[0]
        : java.util.Arrays.stream(text.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  private StrategyTuning() {}

  public static void main(String[] args) throws Exception {
    String dir = args[0];
    long seed = Long.parseLong(args[1]);
    int rounds = Integer.parseInt(args[2]);
    Configuration conf = new Configuration();
    Dataset train = DatasetFiles.read(dir + "/train_X.npy", conf);
    Dataset test = DatasetFiles.read(dir + "/test_X.npy", conf);
    int classes = Math.max(train.classBound(), test.classBound());
    int[][] split = DirichletSplit.split(train.labels(), SITES, ALPHA, seed);
    List<Dataset> sites = new ArrayList<>();
    for (int[] rows : split) {
      sites.add(train.select(rows));
    }
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int a = 3; a < args.length; a++) {
        long started = System.currentTimeMillis();
        String[] spec = args[a].split(":", 2);
        Strategy strategy = Strategies.named(spec[0]);
        Map<String, Double> given = new LinkedHashMap<>();
        if (spec.length > 1 && !spec[1].isEmpty()) {
          for (String kv : spec[1].split(",")) {
            String[] p = kv.split("=");
            given.put(p[0], Double.parseDouble(p[1]));
          }
        }
        StrategySettings settings = StrategySettings.of(strategy, given);
        StringBuilder curve = new StringBuilder();
        double accuracy = run(strategy, settings, sites, test, classes, rounds, seed, pool, curve);
        System.out.printf(
            "RESULT %s seed=%d rounds=%d %s accuracy=%.4f curve=[%s] (%d s)%n",
            strategy.name(),
            seed,
            rounds,
            settings.values(),
            accuracy,
            curve,
            (System.currentTimeMillis() - started) / 1000);
      }
    } finally {
      pool.shutdown();
    }
  }

  static double run(
      Strategy strategy,
      StrategySettings settings,
      List<Dataset> sites,
      Dataset test,
      int classes,
      int rounds,
      long seed,
      ExecutorService pool,
      StringBuilder curve)
      throws Exception {
    int dimension = test.dimension();
    boolean scaffold = strategy.requiredClient() == ClientAlgorithmName.SCAFFOLD;
    Model model =
        Models.initialHead(
            Head.zeros(dimension, classes, Models.DEFAULT_LOGIT_SCALE), 0, "init", scaffold, 0L);
    int size = Models.parameterCount(model);
    float[][] siteControl = new float[sites.size()][size];
    for (int round = 1; round <= rounds; round++) {
      Model base = model;
      Head head = Models.head(base);
      float[] serverControl = scaffold ? FloatArrays.toArray(base.getControlVariate()) : null;
      List<Future<UpdateParameters>> futures = new ArrayList<>();
      for (int s = 0; s < sites.size(); s++) {
        int site = s;
        long trainSeed =
            seed * 1_000_003L + (round - 1) * 10_007L + site; // as simulate seeds its sites
        futures.add(
            pool.submit(
                () ->
                    train(
                        head,
                        sites.get(site),
                        trainSeed,
                        BUDGETS.length == 0 ? Integer.MAX_VALUE : BUDGETS[site % BUDGETS.length],
                        "site-" + site,
                        serverControl,
                        scaffold ? siteControl[site] : null)));
      }
      Fold fold = strategy.newFold(base, settings);
      for (Future<UpdateParameters> f : futures) {
        fold.add(f.get());
      }
      Aggregate next = strategy.finish(base, fold, settings);
      model = Models.derive(base, next, round, strategy.name(), fold.count(), 0, 0L);
      if (round % 5 == 0 || round == rounds) {
        double acc = Models.head(model).evaluate(test).accuracy();
        curve.append(curve.length() == 0 ? "" : " ").append(String.format("%.3f", acc));
        if (Double.isNaN(acc)) {
          return Double.NaN;
        }
      }
    }
    if (GROUPS.length > 0) {
      curve.append(lowBudgetClasses(Models.head(model), sites, test, classes));
    }
    return Models.head(model).evaluate(test).accuracy();
  }

  /**
   * Accuracy on the test rows of the classes whose training rows are mostly at sites with the
   * smallest budget, and on the other classes' rows.
   */
  private static String lowBudgetClasses(
      Head head, List<Dataset> sites, Dataset test, int classes) {
    int low = java.util.Arrays.stream(GROUPS).min().getAsInt();
    long[] atLow = new long[classes];
    long[] all = new long[classes];
    for (int s = 0; s < sites.size(); s++) {
      long[] histogram = sites.get(s).labelHistogram(classes);
      for (int c = 0; c < classes; c++) {
        all[c] += histogram[c];
        if (GROUPS[s % GROUPS.length] == low) {
          atLow[c] += histogram[c];
        }
      }
    }
    List<Integer> lowRows = new ArrayList<>();
    List<Integer> otherRows = new ArrayList<>();
    for (int r = 0; r < test.size(); r++) {
      int c = test.label(r);
      (2 * atLow[c] > all[c] ? lowRows : otherRows).add(r);
    }
    return String.format(
        "] low-budget classes [%d rows %.3f] other classes [%d rows %.3f",
        lowRows.size(),
        head.evaluate(test.select(lowRows.stream().mapToInt(Integer::intValue).toArray()))
            .accuracy(),
        otherRows.size(),
        head.evaluate(test.select(otherRows.stream().mapToInt(Integer::intValue).toArray()))
            .accuracy());
  }

  /**
   * One site's round; a SCAFFOLD site updates {@code control} in place (option II) and reports its
   * change.
   */
  private static UpdateParameters train(
      Head head,
      Dataset data,
      long seed,
      int maxSteps,
      String site,
      float[] serverControl,
      float[] control) {
    TrainSettings settings = TrainSettings.defaults(seed);
    if (maxSteps < Integer.MAX_VALUE && control == null) {
      fedlake.core.client.HeadObjective objective =
          fedlake.core.client.HeadObjective.of(head, data, settings.balancedLoss());
      fedlake.core.client.LocalTraining.Result trained =
          fedlake.core.client.LocalTraining.train(
              objective,
              fedlake.core.client.MomentumSgd.of(
                  objective, settings.learningRate(), settings.momentum(), settings.weightDecay()),
              concat(head.weights(), head.bias()),
              data,
              settings,
              fedlake.core.client.GradientTerm.NONE,
              LocalTrainer.Progress.NONE,
              maxSteps);
      return new UpdateParameters(
          site, data.size(), trained.steps(), trained.parameters(), new float[0]);
    }
    float[] correction = null;
    if (control != null) {
      correction = new float[control.length];
      for (int i = 0; i < control.length; i++) {
        correction[i] = serverControl[i] - control[i];
      }
    }
    LocalTrainer.Result result =
        LocalTrainer.train(head, data, settings, correction, LocalTrainer.Progress.NONE);
    float[] y = concat(result.head().weights(), result.head().bias());
    float[] controlDelta = new float[0];
    if (control != null && result.steps() > 0) {
      float[] x = concat(head.weights(), head.bias());
      double step = result.steps() * settings.learningRate();
      controlDelta = new float[x.length];
      for (int i = 0; i < x.length; i++) {
        float nextControl = (float) (control[i] - serverControl[i] + (x[i] - y[i]) / step);
        controlDelta[i] = nextControl - control[i];
        control[i] = nextControl;
      }
    }
    return new UpdateParameters(site, data.size(), result.steps(), y, controlDelta);
  }

  private static float[] concat(float[] a, float[] b) {
    float[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
