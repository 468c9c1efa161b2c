package fedlake.jobs.actions;

import fedlake.core.cluster.ClusterPlan;
import fedlake.core.cluster.ClusterStore;
import fedlake.core.cluster.RandomProjection;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundRules;
import fedlake.core.round.ScanResult;
import fedlake.core.round.UpdateCheck;
import fedlake.core.round.UpdateFile;
import fedlake.core.round.UpdateSelection;
import fedlake.core.round.UpdateValidator;
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.core.strategy.FedAvg;
import fedlake.core.strategy.Strategies;
import fedlake.core.strategy.StrategySettings;
import fedlake.jobs.spark.SparkScanner;
import fedlake.schema.Model;
import fedlake.schema.SiteProfile;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * Builds one profile per site from a round's valid updates (checked exactly as the round job checks
 * them, one latest update per site) and writes them to {@code ROOT/profiles/round=R/} as Parquet
 * (SiteProfile). Each file is read once: the scan that checks an update builds its profile from the
 * decoded parameters ({@link RoundRules#withProfiles}). The part files go to a hidden staging
 * folder that replaces the round's partition when all are written, so a rerun replaces, never adds.
 */
public final class ProfilesJob {
  private static final Pattern MODEL_FILE = Pattern.compile("cluster-(\\d+)\\.parquet");

  private final SparkSession spark;
  private final Store store;
  private Integer round;
  private int projectionDimension = RandomProjection.DIMENSION_DEFAULT;
  private long projectionSeed = RandomProjection.SEED_DEFAULT;
  private double maxAbsValue = UpdateValidator.MAX_ABS_VALUE_DEFAULT;

  public ProfilesJob(SparkSession spark, Store store) {
    this.spark = spark;
    this.store = store;
  }

  /**
   * Round to profile (default: the current round, whose updates the round job has not aggregated
   * yet).
   */
  public ProfilesJob round(Integer value) {
    if (value != null && value < 0) {
      throw new IllegalArgumentException("profiles: --round must be >= 0, got " + value);
    }
    this.round = value;
    return this;
  }

  public ProfilesJob projectionDimension(int value) {
    new RandomProjection(value, projectionSeed);
    this.projectionDimension = value;
    return this;
  }

  public ProfilesJob projectionSeed(long value) {
    this.projectionSeed = value;
    return this;
  }

  public ProfilesJob maxAbsValue(double value) {
    this.maxAbsValue = value;
    return this;
  }

  /** What the job wrote. */
  public record Result(int round, long profiles, long rejected, String path, long millis) {}

  public Result execute() {
    long started = System.currentTimeMillis();
    Latest latest = store.requireLatest();
    int round = this.round != null ? this.round : latest.round();
    if (round > latest.round()) {
      throw new IllegalStateException(
          "Cannot profile round " + round + ": the current round is " + latest.round());
    }
    Map<Integer, Model> bases = round == latest.round() ? currentModels(latest) : pastModels(round);
    ClusterPlan plan = ClusterPlan.forRound(store, round, bases.keySet());
    UpdateValidator validator =
        new UpdateValidator(round, bases, store.registeredSites().orElse(null), maxAbsValue)
            .withAssignments(plan.training(), plan.trainingFile());
    List<UpdateFile> files =
        store.listUpdates(round).stream()
            .map(s -> new UpdateFile(s.getPath().toString(), s.getLen()))
            .toList();
    // the same checks and choice of each site's latest valid update as the round job; each
    // accepted update's profile is built in the same read of the file
    RoundRules rules =
        new RoundRules(
                validator,
                Strategies.named(FedAvg.NAME),
                StrategySettings.of(Strategies.named(FedAvg.NAME), Map.of()),
                Map.of(),
                false,
                RoundJob.MAX_UPDATE_BYTES_DEFAULT)
            .withProfiles(
                RoundRules.Profiles.of(
                    store,
                    bases.values(),
                    new RandomProjection(projectionDimension, projectionSeed),
                    System.currentTimeMillis()));
    ScanResult scan = UpdateSelection.run(files, rules, new SparkScanner(spark));
    List<UpdateCheck> checks = scan.checks();
    List<SiteProfile> profiles =
        checks.stream()
            .filter(UpdateCheck::accepted)
            .map(check -> scan.profiles().get(check.file()))
            .toList();
    Path target = ClusterStore.profilesRound(store, round);
    if (profiles.isEmpty()) {
      return new Result(
          round, 0, checks.size(), target.toString(), System.currentTimeMillis() - started);
    }
    ClusterStore.writeProfiles(store, round, profiles);
    return new Result(
        round,
        profiles.size(),
        checks.size() - profiles.size(),
        target.toString(),
        System.currentTimeMillis() - started);
  }

  private Map<Integer, Model> currentModels(Latest latest) {
    Map<Integer, Model> bases = new TreeMap<>();
    latest
        .versions()
        .forEach(
            (cluster, version) -> bases.put(cluster, store.readModel(latest.round(), cluster)));
    return bases;
  }

  private Map<Integer, Model> pastModels(int round) {
    Map<Integer, Model> bases = new TreeMap<>();
    Path dir = store.modelFile(round, 0).getParent();
    for (FileStatus file : store.listVisible(dir, ".parquet")) {
      Matcher m = MODEL_FILE.matcher(file.getPath().getName());
      if (m.matches()) {
        int cluster = Integer.parseInt(m.group(1));
        bases.put(cluster, store.readModel(round, cluster));
      }
    }
    if (bases.isEmpty()) {
      throw new IllegalStateException(
          "Cannot profile round " + round + ": " + dir + " holds no model");
    }
    return bases;
  }
}
