package fedlake.core.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.InvalidInputException;
import fedlake.core.identity.SiteKeys;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.schema.FederationSpec;
import fedlake.schema.MaskedUpdate;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.SecureAggregationSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol end to end on a real local store: ten sites, each with its own state folder, post
 * their phase files; the round job closes phases and publishes. Deadlines are driven by the wall
 * clock handed to the round job (a time after every deadline), never by waiting.
 */
class SecureAggregationTest {
  private static final long AFTER_EVERY_DEADLINE = Long.MAX_VALUE / 4;

  @TempDir Path dir;

  private Store store;
  private final Map<String, SecAggSite> sites = new LinkedHashMap<>();
  private final Map<String, SecAggSite.Contribution> contributions = new LinkedHashMap<>();
  private final Map<String, Signer> signers = new LinkedHashMap<>();

  /** A federation of {@code n} registered sites (site-0 ...) with secure aggregation. */
  private void federation(int n, int dimension, int classes, int threshold, boolean signed)
      throws Exception {
    store = Store.open(dir.resolve("store").toUri().toString());
    List<String> ids = IntStream.range(0, n).mapToObj(i -> "site-" + i).toList();
    new Federation(store)
        .dimension(dimension)
        .classes(classes)
        .strategy("fedavg")
        .sites(ids)
        .adjust(
            spec -> {
              spec.setSecureAggregation(
                  SecureAggregationSpec.newBuilder()
                      .setThreshold(threshold)
                      .setScale(65536)
                      .build());
              spec.getRobustness().setRequireSignatures(signed);
            })
        .execute();
    Model base = store.readModel(0, 0);
    float[] before = Models.parameters(base);
    Random random = new Random(11);
    for (String id : ids) {
      SecAggSite site = new SecAggSite(store, id, dir.resolve("state-" + id));
      if (signed) {
        KeyPair pair = SiteKeys.generate();
        String keyId =
            SiteKeys.add(store, id, SiteKeys.toPem("PUBLIC KEY", pair.getPublic().getEncoded()));
        Signer signer = new Signer(keyId, pair.getPrivate());
        signers.put(id, signer);
        site.signer(signer);
      }
      sites.put(id, site);
      float[] trained = before.clone();
      for (int i = 0; i < trained.length; i++) {
        trained[i] += (float) (random.nextDouble() - 0.5);
      }
      contributions.put(id, new SecAggSite.Contribution(trained, 10 + random.nextInt(490)));
    }
  }

  private SecAggSite.Step advance(String id) {
    return sites.get(id).advance(() -> contributions.get(id));
  }

  private void advance(List<String> ids, int expectedPhase) {
    for (String id : ids) {
      SecAggSite.Step step = advance(id);
      assertTrue(step.acted(), step.message());
      assertEquals(expectedPhase, step.phase(), step.message());
    }
  }

  private RoundResult roundJob(long wallClock) {
    FederationSpec spec = Specs.require(store);
    return SecureRound.run(store, spec, null, false, System::currentTimeMillis, () -> wallClock);
  }

  private SecAggServer.State server(long now) {
    return new SecAggServer(
            new SecAggRound(store, Specs.require(store), store.readModel(0, 0)),
            store.registeredSites().orElseThrow())
        .advance(now);
  }

  private List<String> ids(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> "site-" + i).toList();
  }

  /** The plain sum, mod 2^64, of the quantised inputs of {@code ids}. */
  private long[] plainSum(List<String> ids) {
    Model base = store.readModel(0, 0);
    float[] before = Models.parameters(base);
    Quantizer q = SecAggSettings.of(Specs.require(store)).quantizer();
    long[] sum = new long[before.length + 1];
    for (String id : ids) {
      SecAggSite.Contribution c = contributions.get(id);
      double[] change = new double[before.length];
      for (int i = 0; i < change.length; i++) {
        change[i] = (double) c.parameters()[i] - before[i];
      }
      long[] words = q.encode(change, c.numExamples());
      for (int i = 0; i < sum.length; i++) {
        sum[i] += words[i];
      }
    }
    return sum;
  }

  private void assertPublishesExactly(List<String> survivors, RoundResult result) {
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    long[] expected = plainSum(survivors);
    SecAggServer.Summed summed =
        assertInstanceOf(SecAggServer.Summed.class, server(AFTER_EVERY_DEADLINE));
    assertArrayEquals(expected, summed.sum()); // bit for bit
    assertEquals(survivors, summed.survivors());
    Model base = store.readModel(0, 0);
    float[] before = Models.parameters(base);
    double scale = SecAggSettings.of(Specs.require(store)).quantizer().scale();
    long weight = expected[expected.length - 1];
    float[] model = new float[before.length];
    for (int i = 0; i < model.length; i++) {
      model[i] = (float) (before[i] + expected[i] / (scale * weight));
    }
    Model published = store.readModel(1, 0);
    assertArrayEquals(model, Models.parameters(published));
    assertEquals(1, store.requireLatest().round());
    RoundHistory row = history();
    assertEquals("published", row.getStatus());
    assertEquals(survivors, row.getParticipantSites().stream().map(Object::toString).toList());
    assertEquals(weight, row.getTotalExamples());
  }

  @Test
  void tenSitesThreeDropAfterPostingKeysAndSharesPublishesThePlainSumOfTheSeven() throws Exception {
    federation(10, 8, 4, 6, false);
    List<String> all = ids(0, 10);
    List<String> seven = ids(0, 7);
    advance(all, 0);
    assertInstanceOf(SecAggServer.Waiting.class, server(0)); // nothing past its deadline yet
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, roundJob(0).status());
    advance(all, 1); // keys closed early: every registered site posted
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, roundJob(0).status());
    advance(seven, 2); // site-7..9 posted keys and shares, then vanish
    RoundResult waiting = roundJob(0);
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, waiting.status());
    assertTrue(
        waiting.message().contains("masked phase open: 7 of 10 site(s) posted"), waiting.message());
    assertEquals(0, store.requireLatest().round());
    roundJob(AFTER_EVERY_DEADLINE); // the masked phase closes at its deadline with 7
    advance(seven, 3);
    assertPublishesExactly(seven, roundJob(0));
    assertTrue(
        history().getMessage().contains("3 of 10 site(s) that posted keys dropped out"),
        history().getMessage());
  }

  @Test
  void tenSitesThreeDropRightAfterPostingKeys() throws Exception {
    federation(10, 8, 4, 6, false);
    List<String> seven = ids(0, 7);
    advance(ids(0, 10), 0);
    roundJob(0);
    advance(seven, 1);
    roundJob(AFTER_EVERY_DEADLINE); // shares phase closes at its deadline with 7
    SecAggSite.Step late = advance("site-8");
    assertFalse(late.acted());
    assertEquals(
        "site site-8, round 0: the shares phase closed before this site posted: it sits this round out",
        late.message());
    advance(seven, 2);
    roundJob(0);
    advance(seven, 3);
    assertPublishesExactly(seven, roundJob(0));
  }

  @Test
  void theRoundJobHookPublishesWhenEverySitePostedEveryPhase() throws Exception {
    federation(4, 3, 2, 3, true);
    List<String> all = ids(0, 4);
    for (int phase = 0; phase < 4; phase++) {
      advance(all, phase);
      RoundResult result = new RoundJob(store).execute(); // the real round job, real clock
      if (phase < 3) {
        assertEquals(RoundResult.Status.NO_VALID_UPDATES, result.status(), result.message());
      } else {
        assertPublishesExactly(all, result);
      }
    }
    assertTrue(Files.notExists(dir.resolve("store/updates/round-000000")));
    assertEquals(RoundResult.Status.ALREADY_DONE, new RoundJob(store).round(0).execute().status());
  }

  @Test
  void aMaskedUpdateReadAloneShowsOnlyUniformlySpreadWords() throws Exception {
    federation(5, 64, 10, 3, false);
    List<String> all = ids(0, 5);
    advance(all, 0);
    roundJob(0);
    advance(all, 1);
    roundJob(0);
    advance(all, 2);
    SecAggRound round = new SecAggRound(store, Specs.require(store), store.readModel(0, 0));
    MaskedUpdate masked = round.files().readMasked(round.files().phaseFile(2, "site-2"));
    long[] plain = plainSum(List.of("site-2"));
    assertEquals(650 + 1, masked.getValues().size());
    int negative = 0;
    for (int i = 0; i < plain.length; i++) {
      long v = masked.getValues().get(i);
      assertTrue(Math.abs(plain[i]) < (1L << 40)); // the site's words are small ...
      assertTrue(
          v < -(1L << 40) || v > (1L << 40), "word " + i + " = " + v); // ... the masked are not
      negative += v < 0 ? 1 : 0;
    }
    // the sign bit of uniform words is a fair coin: 651 draws land within 0.5 +- 0.08 (> 4 sigma)
    assertTrue(Math.abs(negative / 651.0 - 0.5) < 0.08, "negative share " + negative / 651.0);
    // even the example count, the last word, is hidden
    assertTrue(Math.abs(masked.getValues().get(650)) > (1L << 40));
    // and the plain-update reader of the round job finds no update at all
    assertTrue(store.listRoundFolder(0).isEmpty());
  }

  @Test
  void tooManyDropoutsEndTheRoundWithAReasonAndNothingPublished() throws Exception {
    federation(10, 8, 4, 6, false);
    advance(ids(0, 10), 0);
    roundJob(0);
    advance(ids(0, 10), 1);
    roundJob(0);
    advance(ids(0, 5), 2); // only 5 of 10 send their masked input; the threshold is 6
    RoundResult result = roundJob(AFTER_EVERY_DEADLINE);
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, result.status());
    assertTrue(
        result
            .message()
            .startsWith(
                "Secure aggregation failed: round 0: only 5 site(s) posted masked files by the"
                    + " deadline "),
        result.message());
    assertTrue(
        result
            .message()
            .endsWith(
                ", the threshold is 6 (of 10 that posted keys): too many dropouts to go on;"
                    + " nothing published"),
        result.message());
    assertEquals(0, store.requireLatest().round());
    assertFalse(store.fileSystem().exists(store.modelFile(1, 0)));
    RoundHistory row = history();
    assertEquals("no-valid-updates", row.getStatus());
    assertEquals(result.message(), row.getMessage());
    // the survivors learn it and reveal nothing
    SecAggSite.Step step = advance("site-0");
    assertFalse(step.acted());
    assertTrue(
        step.message()
            .startsWith("site site-0, round 0: secure aggregation failed: round 0: only 5"),
        step.message());
    assertTrue(round().files().listPhase(3).isEmpty());
    // a second run says the same, still publishing nothing
    assertEquals(result.message(), roundJob(AFTER_EVERY_DEADLINE).message());
  }

  private RoundHistory history() {
    return store
        .<RoundHistory>readRecords(store.historyFile(0), RoundHistory.getClassSchema())
        .get(0);
  }

  private SecAggRound round() {
    return new SecAggRound(store, Specs.require(store), store.readModel(0, 0));
  }

  @Test
  void forgedAndTamperedPhaseFilesAreRejectedWithTheirReason() throws Exception {
    federation(6, 3, 2, 4, true);
    List<String> honest = ids(0, 5);
    advance(honest, 0);
    // site-5's keys file is forged: signed by site-0's key instead of its own
    SecAggRound round = round();
    PhaseFile forged =
        round
            .newFile("keys", "site-5")
            .putBytes("encryptionKey", SecAggCrypto.raw(SecAggCrypto.generate().getPublic()))
            .putBytes("maskingKey", SecAggCrypto.raw(SecAggCrypto.generate().getPublic()))
            .put("createdTime", 0);
    SecAggRound.sign(forged, signers.get("site-0"));
    round.files().create(round.files().phaseFile(0, "site-5"), forged.bytes());
    roundJob(AFTER_EVERY_DEADLINE); // keys phase closes at its deadline with the 5 honest sites
    Roster keys = round.roster(0).orElseThrow();
    assertEquals(honest, keys.sites());
    assertEquals(
        round.files().phaseFile(0, "site-5")
            + ": key "
            + signers.get("site-0").keyId()
            + " is not a registered key of site site-5",
        keys.rejected().get("site-5"));

    advance(honest, 1);
    roundJob(0);
    // site-4 changes its shares file after the round job listed it (a store that lets it)
    Path shares = dir.resolve("store/_secagg/round-000000/shares/site-4.txt");
    byte[] changed = Files.readAllBytes(shares);
    changed[changed.length - 10] ^= 1; // flip one bit inside a sealed share
    Files.write(shares, changed);
    advance(honest, 2);
    roundJob(0);
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> advance("site-0"));
    assertEquals(
        shares.toUri().toString().replace("file:///", "file:/")
            + ": changed after the round job listed it (its SHA-256 is not the roster's)",
        e.getMessage());
  }

  @Test
  void aMaskedUpdateOfTheWrongShapeIsRejectedAndItsSiteCountsAsDropped() throws Exception {
    federation(5, 3, 2, 3, false);
    List<String> all = ids(0, 5);
    advance(all, 0);
    roundJob(0);
    advance(all, 1);
    roundJob(0);
    advance(ids(0, 4), 2);
    SecAggRound round = round();
    round
        .files()
        .writeMasked(
            MaskedUpdate.newBuilder()
                .setSite("site-4")
                .setRound(0)
                .setBaseModelVersion(round.base().getVersion())
                .setSpecVersion(1)
                .setValues(new ArrayList<>(List.of(1L, 2L, 3L)))
                .setCreatedTime(java.time.Instant.EPOCH)
                .build());
    roundJob(AFTER_EVERY_DEADLINE); // every site posted, but site-4's file does not count
    Roster masked = round.roster(2).orElseThrow();
    assertEquals(ids(0, 4), masked.sites());
    assertEquals(
        round.files().phaseFile(2, "site-4")
            + ": holds 3 words, the model needs 9 (parameters and the example count)",
        masked.rejected().get("site-4"));
    advance(ids(0, 4), 3);
    RoundResult result = roundJob(0);
    assertPublishesExactly(ids(0, 4), result);
    assertEquals(
        Set.of("masked/site-4"),
        result.audit().stream()
            .filter(a -> a.getStatus().equals("rejected"))
            .map(a -> a.getFile().substring(a.getFile().indexOf("round-000000/") + 13))
            .collect(Collectors.toSet()));
  }

  @Test
  void aCorruptedUnmaskShareEndsTheRoundWithItsReason() throws Exception {
    federation(5, 3, 2, 3, false);
    List<String> all = ids(0, 5);
    for (int phase = 0; phase < 3; phase++) {
      advance(all, phase);
      roundJob(0);
    }
    advance(all, 3);
    // site-4 (x = 5; an unsigned federation) changes one revealed share before the round job lists
    // it
    Path file = dir.resolve("store/_secagg/round-000000/unmask/site-4.txt");
    PhaseFile f = PhaseFile.parse(Files.readAllBytes(file), file.toString());
    byte[] share = f.getBytes("self.site-1", "test");
    share[Shamir.SHARE_BYTES - 1] ^= 1;
    f.putBytes("self.site-1", share);
    Files.write(file, f.bytes());
    RoundResult result = roundJob(0);
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, result.status());
    assertEquals(
        "Secure aggregation failed: round 0: cannot rebuild the self-mask seed of site-1: the shares"
            + " are inconsistent: share 5 does not lie on the polynomial through shares 1, 2, 3 (one"
            + " of them was corrupted); nothing published",
        result.message());
    assertEquals(0, store.requireLatest().round());
  }
}
