package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.identity.SiteKeys;
import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed updates: sites sign with the keys edge keygen makes, the operator registers them, and the
 * round rejects unsigned, forged, impersonating, replayed and revoked-key updates with reasons; the
 * model equals the one of the honest updates.
 */
class SignedUpdatesTest {
  private static final GaussianClasses DATA = new GaussianClasses(3, 8, 0.5, 5);

  @TempDir Path dir;

  private Store federation(String name) throws Exception {
    Store store = Store.open(dir.resolve(name).toUri().toString());
    new Federation(store)
        .dimension(8)
        .classes(3)
        .strategy("fedavg")
        .adjust(spec -> spec.getRobustness().setRequireSignatures(true))
        .execute();
    return store;
  }

  private SiteKey keygen(String site) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        EdgeMain.run(
            new String[] {"keygen", "--site", site, "--state-dir", dir.resolve("state").toString()},
            new PrintStream(out),
            new PrintStream(err));
    assertEquals(0, code, err.toString());
    assertTrue(
        out.toString().contains("fedlake site add --store URI --site " + site), out.toString());
    return SiteKey.read(SiteKey.defaultFile(dir.resolve("state"), site));
  }

  private static String pem(SiteKey key) throws Exception {
    Path file = key.file();
    String name = file.getFileName().toString();
    return Files.readString(file.resolveSibling(name.replace(".key", ".pub")));
  }

  private String train(Store store, String site, long seed, SiteKey key) {
    Dataset data = DATA.sample(8, seed, site);
    return new EdgeTrain(store, site, data)
        .stateDir(dir.resolve("state"))
        .signingKey(key)
        .execute()
        .updateFile();
  }

  @Test
  void onlyUpdatesSignedByTheSitesOwnRegisteredKeyCount() throws Exception {
    Store store = federation("signed");
    SiteKey a = keygen("site-a");
    SiteKey b = keygen("site-b");
    SiteKey c = keygen("site-c"); // generated, never registered
    assertEquals(a.keyId(), SiteKeys.add(store, "site-a", pem(a)));
    SiteKeys.add(store, "site-b", pem(b));

    String honestA = train(store, "site-a", 1, a);
    String honestB = train(store, "site-b", 2, b);
    Configuration conf = new Configuration();
    Update original = new UpdateReader(conf).read(honestA);

    // forged: site-a's signed update with one weight changed, uploaded under site-a's name
    Update forged = Update.newBuilder(original).setUpdateId("forged").build();
    forged.getWeights().set(0, forged.getWeights().get(0) + 1f);
    forged.setCreatedTime(original.getCreatedTime().plusMillis(1));
    store.writeUpdate(forged);
    // impersonation: an update naming site-b, signed with site-a's key
    Update impersonating =
        Update.newBuilder(original).setUpdateId("as-b").setSite("site-b").build();
    impersonating.setCreatedTime(Instant.now().plusMillis(1_000)); // newer than site-b's own
    a.sign(impersonating);
    store.writeUpdate(impersonating);
    // unsigned, and signed with an unregistered key
    Update unsigned =
        Update.newBuilder(original).setUpdateId("plain").setSite("site-c").setKeyId(null).build();
    unsigned.setSignature(null);
    store.writeUpdate(unsigned);
    Update stranger = Update.newBuilder(original).setUpdateId("stranger").setSite("site-c").build();
    c.sign(stranger);
    store.writeUpdate(stranger);

    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    Map<String, String> reasons =
        result.audit().stream()
            .collect(
                Collectors.toMap(r -> r.getUpdateId(), r -> r.getStatus() + ": " + r.getReason()));
    assertEquals(
        "rejected: signature does not verify with key "
            + a.keyId()
            + " of site site-a: the update was changed after it was signed, or signed with another"
            + " key",
        reasons.get("forged"));
    assertEquals(
        "rejected: key " + a.keyId() + " is not a registered key of site site-b",
        reasons.get("as-b"));
    assertEquals(
        "rejected: unsigned update: the federation requires signed updates"
            + " (robustness.requireSignatures; edge keygen, fedlake site add)",
        reasons.get("plain"));
    assertEquals(
        "rejected: key " + c.keyId() + " is not a registered key of site site-c",
        reasons.get("stranger"));
    assertEquals(
        2,
        result.audit().stream().filter(r -> "accepted".equals(r.getStatus())).count(),
        "the two honest updates");

    // the model equals the FedAvg of the honest updates alone
    fedlake.core.strategy.WeightedMean honest =
        new fedlake.core.strategy.WeightedMean(store.readModel(0, 0));
    for (String file : new String[] {honestA, honestB}) {
      Update u = new UpdateReader(conf).read(file);
      honest.add(
          new fedlake.core.strategy.UpdateParameters(
              u.getSite(),
              u.getNumExamples(),
              u.getLocalSteps(),
              Models.parameters(u),
              new float[0]));
    }
    assertArrayEquals(honest.mean(), Models.parameters(store.readModel(1, 0)));

    // replayed: site-a's signed round-0 file copied into round 1
    Path folder1 = Path.of(store.updatesDir(1).toUri());
    Files.createDirectories(folder1);
    Files.copy(Path.of(java.net.URI.create(honestA)), folder1.resolve("site-a--replay.parquet"));
    // revoked: site-b's key is revoked before its round-1 update is aggregated
    train(store, "site-b", 3, b);
    SiteKeys.revoke(store, "site-b", b.keyId(), Instant.parse("2026-01-01T00:00:00Z"));
    RoundResult second = new RoundJob(store).execute();
    Map<String, UpdateAudit> bySite =
        second.audit().stream().collect(Collectors.toMap(UpdateAudit::getSite, r -> r));
    assertEquals(
        "wrong round: update is for round 0, the current round is 1",
        bySite.get("site-a").getReason());
    assertEquals(
        "key " + b.keyId() + " of site site-b was revoked at 2026-01-01T00:00:00Z",
        bySite.get("site-b").getReason());
    assertEquals(RoundResult.Status.NO_VALID_UPDATES, second.status());
  }

  @Test
  void aSiteWithoutAKeyRefusesToTrainForAFederationThatRequiresSignatures() throws Exception {
    Store store = federation("nokey");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> train(store, "site-a", 1, null));
    assertTrue(e.getMessage().contains("requires signed updates and this site has no key"));
  }
}
