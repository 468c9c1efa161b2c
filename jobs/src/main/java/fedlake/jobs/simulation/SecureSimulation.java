package fedlake.jobs.simulation;

import fedlake.core.data.Dataset;
import fedlake.core.model.Models;
import fedlake.core.round.RoundResult;
import fedlake.core.secagg.SecAggSettings;
import fedlake.core.secagg.SecAggSite;
import fedlake.core.secagg.SecureRound;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.core.train.TrainSettings;
import fedlake.edge.EdgeTrain;
import fedlake.schema.FederationSpec;
import fedlake.schema.Update;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One simulated round under secure aggregation (docs/secure-aggregation.md): every site runs the
 * real {@link SecAggSite} steps (training with the real edge runner in the masked phase), the real
 * round job closes each phase in between. A share of the sites, drawn per round from the seed,
 * drops out after posting keys and shares. The round job's wall clock is moved past each phase's
 * deadline, so phases with dropouts close without waiting.
 */
final class SecureSimulation {
  private final Store store;
  private final List<Dataset> siteData;
  private final Path states;
  private final double dropouts;
  private final long seed;
  private final ExecutorService pool;
  private final AtomicLong wall = new AtomicLong(System.currentTimeMillis());

  SecureSimulation(
      Store store,
      List<Dataset> siteData,
      Path states,
      double dropouts,
      long seed,
      ExecutorService pool) {
    if (!(dropouts >= 0 && dropouts < 1)) {
      throw new IllegalArgumentException(
          "simulate: --dropouts must be a fraction in [0, 1), got " + dropouts);
    }
    this.store = store;
    this.siteData = siteData;
    this.states = states;
    this.dropouts = dropouts;
    this.seed = seed;
    this.pool = pool;
  }

  /** The sites that drop out of {@code round} after their shares. */
  Set<Integer> dropped(int round) {
    int count = (int) Math.floor(dropouts * siteData.size());
    List<Integer> order = new ArrayList<>();
    for (int s = 0; s < siteData.size(); s++) {
      order.add(s);
    }
    java.util.Collections.shuffle(order, new Random(seed * 1_000_003L + round));
    return new TreeSet<>(order.subList(0, count));
  }

  RoundResult round(int round, TrainSettings settings)
      throws InterruptedException, java.util.concurrent.ExecutionException {
    FederationSpec spec = Specs.require(store);
    SecAggSettings secure = SecAggSettings.of(spec);
    long step =
        1000L
            * (1
                + Math.max(
                    Math.max(secure.keysSeconds(), secure.sharesSeconds()),
                    Math.max(secure.maskedSeconds(), secure.unmaskSeconds())));
    Set<Integer> dropped = dropped(round);
    RoundResult result = null;
    for (int phase = 0; phase < 4; phase++) {
      List<Future<SecAggSite.Step>> steps = new ArrayList<>();
      for (int s = 0; s < siteData.size(); s++) {
        if (phase >= 2 && dropped.contains(s)) {
          continue;
        }
        String site = Simulate.siteName(s);
        Dataset data = siteData.get(s);
        TrainSettings siteSettings = settings.withSeed(seed * 1_000_003L + round * 10_007L + s);
        steps.add(
            pool.submit(
                () ->
                    new SecAggSite(store, site, states)
                        .advance(() -> train(site, data, siteSettings))));
      }
      for (Future<SecAggSite.Step> f : steps) {
        SecAggSite.Step done = f.get();
        if (!done.acted()) {
          throw new IllegalStateException("simulate: " + done.message());
        }
      }
      result =
          SecureRound.run(
              store, spec, round, false, System::currentTimeMillis, () -> wall.addAndGet(step));
    }
    return result;
  }

  private SecAggSite.Contribution train(String site, Dataset data, TrainSettings settings) {
    Update[] trained = new Update[1];
    new EdgeTrain(store, site, data)
        .settings(settings)
        .stateDir(states)
        .uploader(
            update -> {
              trained[0] = update;
              return "(masked)";
            })
        .execute();
    return new SecAggSite.Contribution(Models.parameters(trained[0]), trained[0].getNumExamples());
  }
}
