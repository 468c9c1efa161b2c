package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.codec.UpdateCodec;
import fedlake.core.data.GaussianClasses;
import fedlake.core.identity.SiteKeys;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.round.RoundJob;
import fedlake.core.round.RoundResult;
import fedlake.core.round.UpdateReader;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.schema.Model;
import fedlake.schema.RoundHistory;
import fedlake.schema.Update;
import fedlake.schema.UpdateAudit;
import fedlake.schema.UpdateEncoding;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compressed updates through the real edge runner and round job: what is sent, what the round
 * publishes from it, what it refuses, and what each update says it cost its site.
 */
class EncodedUpdatesTest {
  private static final GaussianClasses DATA = new GaussianClasses(3, 8, 0.5, 5);
  private static final GaussianClasses WIDE = new GaussianClasses(10, 256, 0.5, 5);

  @TempDir Path dir;

  private Store federation(String name, String strategy, UpdateEncoding encoding, boolean signed)
      throws Exception {
    return federation(name, strategy, encoding, signed, DATA);
  }

  private Store federation(
      String name, String strategy, UpdateEncoding encoding, boolean signed, GaussianClasses data)
      throws Exception {
    Store store = Store.open(dir.resolve(name).toUri().toString());
    new Federation(store)
        .dimension(data.dimension())
        .classes(data.classes())
        .strategy(strategy)
        .adjust(
            spec -> {
              spec.getClient().setUpdateEncoding(encoding);
              spec.getRobustness().setRequireSignatures(signed);
            })
        .execute();
    return store;
  }

  private String train(Store store, String site, int rows, SiteKey key) {
    return train(store, site, rows, key, DATA);
  }

  private String train(Store store, String site, int rows, SiteKey key, GaussianClasses data) {
    return new EdgeTrain(store, site, data.sample(rows, site.hashCode(), site))
        .stateDir(dir.resolve("state"))
        .signingKey(key)
        .execute()
        .updateFile();
  }

  private static Update read(String file) {
    return new UpdateReader(new Configuration()).read(file);
  }

  /** The FedAvg of the updates as the round job decodes them: sum n_k p_k / sum n_k. */
  private static float[] weightedMean(List<Update> updates, Model base) {
    double[] sum = new double[Models.parameterCount(base)];
    long total = 0;
    for (Update u : updates) {
      float[] p = Models.parameters(UpdateCodec.decoded(u, base));
      for (int i = 0; i < sum.length; i++) {
        sum[i] += (double) u.getNumExamples() * p[i];
      }
      total += u.getNumExamples();
    }
    float[] mean = new float[sum.length];
    for (int i = 0; i < sum.length; i++) {
      mean[i] = (float) (sum[i] / total);
    }
    return mean;
  }

  @Test
  void halfAndByteUpdatesAreSmallerAndPublishTheMeanOfWhatTheyDecodeTo() throws Exception {
    long[] bytes = new long[3];
    for (UpdateEncoding encoding : UpdateEncoding.values()) {
      Store store = federation(encoding.name(), "fedavg", encoding, false, WIDE);
      Model base = store.readModel(0, 0);
      List<Update> sent = new ArrayList<>();
      for (int s = 0; s < 3; s++) {
        String file = train(store, "site-" + s, 30 + 5 * s, null, WIDE);
        bytes[encoding.ordinal()] += Files.size(Path.of(java.net.URI.create(file)));
        sent.add(read(file));
      }
      Update first = sent.get(0);
      int size = Models.parameterCount(base); // 10 x 256 + 10
      if (encoding == UpdateEncoding.FP32) {
        assertEquals(null, first.getEncoding());
        assertEquals(2560, first.getWeights().size());
      } else {
        assertEquals(UpdateCodec.id(encoding), first.getEncoding());
        assertEquals(0, first.getWeights().size(), "values travel only in encodedChange");
        assertEquals(
            size * UpdateCodec.bytesPerValue(encoding), first.getEncodedChange().remaining());
        assertEquals(
            encoding == UpdateEncoding.INT8 ? 11 : 0,
            first.getChangeScales() == null ? 0 : first.getChangeScales().size(),
            "int8: one scale per row of 256 (10 weight rows, 1 bias row)");
      }
      RoundResult result = new RoundJob(store).execute();
      assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
      assertEquals(
          3, result.audit().stream().filter(r -> "accepted".equals(r.getStatus())).count());
      assertEquals(UpdateCodec.id(encoding), result.audit().get(0).getEncoding());
      assertArrayEquals(
          weightedMean(sent, base),
          Models.parameters(result.published().get(0)),
          1e-6f,
          encoding + ": the weighted mean of the decoded updates");
    }
    // three files of 2,570 values: fp16 saves 2 bytes a value, int8 another byte (less the scales)
    long values = 3 * 2570;
    assertTrue(
        bytes[1] <= bytes[0] - 1.8 * values, "fp16 files: " + bytes[1] + " vs fp32 " + bytes[0]);
    assertTrue(
        bytes[2] <= bytes[1] - 0.8 * values, "int8 files: " + bytes[2] + " vs fp16 " + bytes[1]);
  }

  @Test
  void signedByteUpdatesOfScaffoldVerifyAndCarryTheirControlDelta() throws Exception {
    Store store = federation("signed", "scaffold", UpdateEncoding.INT8, true);
    SiteKey key = keygen("site-a");
    SiteKeys.add(
        store,
        "site-a",
        Files.readString(
            key.file()
                .resolveSibling(key.file().getFileName().toString().replace(".key", ".pub"))));
    Update sent = read(train(store, "site-a", 12, key));
    assertEquals("int8", sent.getEncoding());
    assertEquals(0, sent.getControlDelta().size());
    assertNotNull(sent.getEncodedControlDelta());
    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    UpdateAudit row = result.audit().get(0);
    assertEquals("accepted", row.getStatus(), row.getReason());
    Model base = store.readModel(0, 0);
    Update decoded = UpdateCodec.decoded(sent, base);
    float[] control = FloatArrays.toArray(result.published().get(0).getControlVariate());
    float[] delta = FloatArrays.toArray(decoded.getControlDelta());
    // one site of one: SCAFFOLD's server control moves by the site's decoded control delta
    for (int i = 0; i < control.length; i++) {
      assertEquals(delta[i], control[i], 1e-6f, "control " + i);
    }
  }

  private SiteKey keygen(String site) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        EdgeMain.run(
            new String[] {"keygen", "--site", site, "--state-dir", dir.resolve("state").toString()},
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(err));
    assertEquals(0, code, err.toString());
    return SiteKey.read(SiteKey.defaultFile(dir.resolve("state"), site));
  }

  @Test
  void brokenEncodingsAreRejectedWithReasonsAndTheRoundKeepsTheHonestUpdates() throws Exception {
    Store store = federation("hostile", "fedavg", UpdateEncoding.FP16, false);
    Model base = store.readModel(0, 0);
    Update honest = read(train(store, "site-a", 10, null));
    byte[] encoded = bytes(honest.getEncodedChange());
    write(
        store,
        copy(honest, "short")
            .setEncodedChange(
                ByteBuffer.wrap(java.util.Arrays.copyOf(encoded, encoded.length - 2))));
    write(store, copy(honest, "fp8").setEncoding("fp8"));
    write(store, copy(honest, "both").setWeights(FloatArrays.asList(new float[24])));
    byte[] infinite = encoded.clone();
    infinite[0] = 0x00;
    infinite[1] = 0x7c; // +infinity as the first change
    write(store, copy(honest, "inf").setEncodedChange(ByteBuffer.wrap(infinite)));
    write(
        store,
        copy(honest, "nan-scale")
            .setEncoding("int8")
            .setEncodedChange(ByteBuffer.wrap(new byte[27]))
            .setChangeScales(FloatArrays.asList(new float[] {1, Float.NaN, 1, 1})));
    write(
        store,
        copy(honest, "huge")
            .setEncodedChange(ByteBuffer.wrap(new byte[4 << 20]))); // 4 MB for 27 values

    RoundResult result = new RoundJob(store).execute();
    assertEquals(RoundResult.Status.PUBLISHED, result.status(), result.message());
    Map<String, String> reasons =
        result.audit().stream()
            .filter(r -> r.getUpdateId() != null)
            .collect(
                Collectors.toMap(
                    UpdateAudit::getUpdateId, r -> r.getStatus() + ": " + r.getReason()));
    String unreadableHuge =
        result.audit().stream()
            .filter(r -> r.getFile().contains("huge"))
            .map(UpdateAudit::getReason)
            .findFirst()
            .orElseThrow();
    assertEquals(
        "rejected: encodedChange holds 52 bytes, fp16 needs 54 for 27 values",
        reasons.get("short"));
    assertEquals("rejected: encoding 'fp8' is none of fp32, fp16, int8", reasons.get("fp8"));
    assertEquals(
        "rejected: encoding fp16 carries its values in encodedChange, but 'weights' is not empty",
        reasons.get("both"));
    assertTrue(
        reasons.get("inf").startsWith("rejected: non-finite parameter Infinity"),
        reasons.get("inf"));
    assertEquals(
        "rejected: encodedChange scale NaN of block 1 is not a finite value >= 0",
        reasons.get("nan-scale"));
    assertTrue(unreadableHuge.startsWith("encodedChange would decompress to 4194"), unreadableHuge);
    assertArrayEquals(
        Models.parameters(UpdateCodec.decoded(honest, base)),
        Models.parameters(result.published().get(0)),
        "only the honest update counts");
  }

  private static Update.Builder copy(Update u, String id) {
    return Update.newBuilder(u)
        .setUpdateId(id)
        .setSite("site-" + id)
        .setCreatedTime(u.getCreatedTime().plusMillis(1));
  }

  private static void write(Store store, Update.Builder update) throws Exception {
    store.writeUpdate(update.build());
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer b = buffer.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  @Test
  void historyReportsThePseudoLabelAccuracyAndTheSitesBelowZeroShot() throws Exception {
    Store store = federation("pseudo", "fedavg", UpdateEncoding.FP32, false);
    Update a = read(train(store, "site-a", 10, null)); // labelled: reports nothing
    Update b = read(train(store, "site-b", 20, null));
    // two sites that trained without labels and audited their pseudo-labels on held labels
    write(
        store,
        copy(a, "x")
            .setPseudoLabelAccuracy(0.8) // 30 examples (10 a class), as site-a
            .setAuditAccuracy(0.6)
            .setAuditZeroShotAccuracy(0.7)); // pulled below zero-shot
    write(
        store,
        copy(b, "y")
            .setNumExamples(60)
            .setPseudoLabelAccuracy(0.4)
            .setAuditAccuracy(0.75)
            .setAuditZeroShotAccuracy(0.7));
    RoundResult result = new RoundJob(store).execute();
    RoundHistory h = result.history().get(0);
    assertEquals(4, h.getParticipants(), result.audit().toString());
    assertEquals((30 * 0.8 + 60 * 0.4) / 90, h.getPseudoLabelAccuracy(), 1e-12);
    assertEquals(1, h.getSitesBelowZeroShot());

    Store labelled = federation("labelled", "fedavg", UpdateEncoding.FP32, false);
    train(labelled, "site-a", 10, null);
    RoundHistory plain = new RoundJob(labelled).execute().history().get(0);
    assertEquals(null, plain.getPseudoLabelAccuracy(), "no site reported one");
    assertEquals(null, plain.getSitesBelowZeroShot());
  }

  @Test
  void everyUpdateSaysWhatItCostAndHistorySumsIt() throws Exception {
    Store store = federation("costs", "fedavg", UpdateEncoding.FP32, false);
    List<Update> sent = new ArrayList<>();
    long uploaded = 0;
    for (int s = 0; s < 2; s++) {
      String file = train(store, "site-" + s, 400, null);
      uploaded += Files.size(Path.of(java.net.URI.create(file)));
      sent.add(read(file));
    }
    long model = store.fileSystem().getFileStatus(store.modelFile(0, 0)).getLen();
    long spec =
        store
            .fileSystem()
            .getFileStatus(Specs.file(store, Specs.require(store).getSpecVersion()))
            .getLen();
    for (Update u : sent) {
      assertEquals(model + spec, u.getDownloadBytes(), "the model and the spec were read");
      assertTrue(u.getTrainCpuMillis() >= 0);
      assertTrue(u.getPeakMemoryBytes() > 1 << 20, "a JVM takes more than a MB");
    }
    RoundResult result = new RoundJob(store).execute();
    RoundHistory h = result.history().get(0);
    assertEquals(uploaded, h.getUploadBytes());
    assertEquals(2 * (model + spec), h.getDownloadBytes());
    assertEquals(
        sent.get(0).getTrainCpuMillis() + sent.get(1).getTrainCpuMillis(), h.getSiteCpuMillis());
    assertEquals(
        Math.max(sent.get(0).getPeakMemoryBytes(), sent.get(1).getPeakMemoryBytes()),
        h.getSitePeakMemoryBytes());
    for (UpdateAudit row : result.audit()) {
      Update u =
          sent.stream()
              .filter(x -> x.getUpdateId().equals(row.getUpdateId()))
              .findFirst()
              .orElseThrow();
      assertEquals(u.getTrainCpuMillis(), row.getTrainCpuMillis());
      assertEquals(u.getDownloadBytes(), row.getDownloadBytes());
    }
  }
}
