package fedlake.core.secagg;

import fedlake.core.model.Models;
import fedlake.core.round.HistoryStatus;
import fedlake.core.round.RoundResult;
import fedlake.core.spec.Specs;
import fedlake.core.store.Latest;
import fedlake.core.store.Store;
import fedlake.core.strategy.Aggregate;
import fedlake.core.strategy.Strategy;
import fedlake.core.strategy.UpdateParameters;
import fedlake.core.strategy.WeightedMean;
import fedlake.schema.FederationSpec;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.UpdateAudit;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * The round job under secure aggregation ({@code RoundJob} hands the whole round here when the spec
 * asks for it). Each run closes the phases that are due; when the unmask phase is closed it removes
 * the masks, turns the exact integer sum into the weighted mean change, lets the spec's strategy
 * take its server step from it, and publishes the next model, audit and history, moving the pointer
 * last. The model's createdTime is the unmask roster's close time, so a rerun (or a second job)
 * derives the same model version from the same pinned files and the model is written once.
 */
public final class SecureRound {
  private SecureRound() {}

  public static RoundResult run(
      Store store,
      FederationSpec spec,
      Integer expectedRound,
      boolean calibrate,
      LongSupplier clock,
      LongSupplier wallClock) {
    if (calibrate) {
      throw new IllegalArgumentException(
          "round --calibrate cannot run under secure aggregation: calibration (CCVR) needs the"
              + " sites' class statistics, which a secure round never sees");
    }
    long started = clock.getAsLong();
    Latest latest = store.requireLatest();
    int round = latest.round();
    RoundResult done = RoundResult.unlessCurrent(expectedRound, round);
    if (done != null) {
      return done;
    }
    if (latest.versions().size() != 1) {
      throw new IllegalStateException(
          "secure aggregation needs one model, the pointer names " + latest.versions().size());
    }
    Model base = store.readModel(round, latest.versions().firstKey());
    if (!base.getVersion().equals(latest.versions().get(latest.versions().firstKey()))) {
      throw new IllegalStateException(
          "Model pointer names "
              + latest.versions().get(latest.versions().firstKey())
              + " but "
              + store.modelFile(round, base.getCluster())
              + " holds "
              + base.getVersion());
    }
    SecAggRound secure = new SecAggRound(store, spec, base);
    SecAggServer server = new SecAggServer(secure, store.registeredSites().orElse(null));
    SecAggServer.State state = server.advance(wallClock.getAsLong());
    if (state instanceof SecAggServer.Waiting waiting) {
      return new RoundResult(
          round,
          RoundResult.Status.NO_VALID_UPDATES,
          waiting.message(),
          List.of(),
          List.of(),
          List.of());
    }
    try {
      if (state instanceof SecAggServer.Failed failed) {
        String message = "Secure aggregation failed: " + failed.message();
        RoundHistory row = history(spec, base, null, List.of(), 0, 0, message, started, clock);
        store.writeHistory(round, List.of(row));
        return new RoundResult(
            round,
            RoundResult.Status.NO_VALID_UPDATES,
            message,
            List.of(),
            List.of(row),
            List.of());
      }
      SecAggServer.Summed summed = (SecAggServer.Summed) state;
      SecAggSettings settings = secure.settings();
      double[] change = settings.quantizer().meanChange(summed.sum());
      long weight = Quantizer.weight(summed.sum());
      float[] before = Models.parameters(base);
      float[] mean = new float[before.length];
      for (int i = 0; i < mean.length; i++) {
        mean[i] = (float) (before[i] + change[i]);
      }
      Strategy strategy = Specs.strategy(spec);
      WeightedMean fold = new WeightedMean(base);
      fold.add(new UpdateParameters("secure-aggregate", weight, 0, mean, new float[0]));
      Aggregate aggregate = strategy.finish(base, fold, Specs.settings(spec));
      Model next =
          Models.derive(
              base,
              aggregate,
              round + 1,
              strategy.name(),
              summed.survivors().size(),
              spec.getSpecVersion(),
              summed.closedMillis());
      store.writeModelOnce(next);
      List<UpdateAudit> audit = new ArrayList<>();
      long now = clock.getAsLong();
      for (String site : summed.survivors()) {
        var file = secure.files().phaseFile(2, site);
        audit.add(
            UpdateAudit.newBuilder()
                .setRound(round)
                .setFile(file.toString())
                .setFileBytes(store.fileSystem().getFileStatus(file).getLen())
                .setStatus("accepted")
                .setReason("masked input: only the sum of the round's inputs is known")
                .setSite(site)
                .setCluster(base.getCluster())
                .setCheckedTime(Instant.ofEpochMilli(now))
                .build());
      }
      summed
          .rejected()
          .forEach(
              (where, why) ->
                  audit.add(
                      UpdateAudit.newBuilder()
                          .setRound(round)
                          .setFile(secure.files().roundDir() + "/" + where)
                          .setFileBytes(0)
                          .setStatus("rejected")
                          .setReason(why)
                          .setSite(where.substring(where.indexOf('/') + 1))
                          .setCheckedTime(Instant.ofEpochMilli(now))
                          .build()));
      store.writeAudit(round, audit);
      int keyed = secure.roster(0).orElseThrow().sites().size();
      String message =
          "Aggregated "
              + summed.survivors().size()
              + " masked update(s) with secure aggregation (threshold "
              + secure.roster(0).orElseThrow().threshold()
              + ", "
              + (keyed - summed.survivors().size())
              + " of "
              + keyed
              + " site(s) that posted keys dropped out) and "
              + strategy.name()
              + " into "
              + next.getVersion()
              + (summed.rejected().isEmpty()
                  ? ""
                  : "; rejected " + summed.rejected().size() + " phase file(s), see audit");
      RoundHistory row =
          history(
              spec,
              base,
              next,
              summed.survivors(),
              weight,
              summed.rejected().size(),
              message,
              started,
              clock);
      store.writeHistory(round, List.of(row));
      Latest now2 = store.requireLatest();
      if (!now2.equals(latest)) {
        return new RoundResult(
            round,
            RoundResult.Status.LOST_RACE,
            "Round "
                + round
                + ": another job moved the pointer to round "
                + now2.round()
                + " meanwhile; the pointer was left as it is",
            List.of(),
            List.of(),
            List.of());
      }
      TreeMap<Integer, String> versions = new TreeMap<>();
      versions.put(next.getCluster(), next.getVersion());
      store.movePointer(new Latest(round + 1, versions));
      return new RoundResult(
          round,
          RoundResult.Status.PUBLISHED,
          "Round "
              + round
              + ": published ["
              + next.getVersion()
              + "] from the sum of "
              + summed.survivors().size()
              + " masked update(s) with "
              + strategy.name(),
          List.of(next),
          List.of(row),
          audit);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot publish round " + round + " to " + store.root() + ": " + e.getMessage(), e);
    }
  }

  private static RoundHistory history(
      FederationSpec spec,
      Model base,
      Model published,
      List<String> sites,
      long examples,
      int rejected,
      String message,
      long started,
      LongSupplier clock) {
    long total = clock.getAsLong() - started;
    double change = 0;
    if (published != null) {
      float[] a = Models.parameters(base);
      float[] b = Models.parameters(published);
      for (int i = 0; i < a.length; i++) {
        double d = (double) a[i] - b[i];
        change += d * d;
      }
    }
    return RoundHistory.newBuilder()
        .setRound(base.getRound())
        .setCluster(base.getCluster())
        .setStatus(
            (published == null ? HistoryStatus.NO_VALID_UPDATES : HistoryStatus.PUBLISHED).id())
        .setMessage(message)
        .setStrategy(spec.getStrategy().getName())
        .setSpecVersion(spec.getSpecVersion())
        .setBaseModelVersion(base.getVersion())
        .setPublishedModelVersion(published == null ? null : published.getVersion())
        .setParticipants(sites.size())
        .setRejected(rejected)
        .setParticipantSites(new ArrayList<>(sites))
        .setTotalExamples(examples)
        .setModelChangeNorm(published == null ? null : Math.sqrt(change))
        .setStartedTime(Instant.ofEpochMilli(started))
        .setValidateMillis(0)
        .setAggregateMillis(total)
        .setPublishMillis(0)
        .setTotalMillis(total)
        .build();
  }
}
