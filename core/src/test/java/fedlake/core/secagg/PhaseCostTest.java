package fedlake.core.secagg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.init.Federation;
import fedlake.core.model.Models;
import fedlake.core.spec.Specs;
import fedlake.core.store.Store;
import fedlake.schema.SecureAggregationSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What each phase costs a site in bytes, for docs/secure-aggregation.md: ten unsigned sites with
 * 8-character ids on a 512 x 10 head (5,130 parameters), every file of every phase measured.
 */
class PhaseCostTest {
  @TempDir Path dir;

  private static long size(Path file) throws Exception {
    return Files.size(file);
  }

  @Test
  void phaseFileSizesFollowTheFormulasOfTheDoc() throws Exception {
    int n = 10;
    Path root = dir.resolve("store");
    Store store = Store.open(root.toUri().toString());
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(String.format("site-%03d", i));
    }
    new Federation(store)
        .dimension(512)
        .classes(10)
        .strategy("fedavg")
        .sites(ids)
        .adjust(
            s -> s.setSecureAggregation(SecureAggregationSpec.newBuilder().setThreshold(2).build()))
        .execute();
    float[] base = Models.parameters(store.readModel(0, 0));
    assertEquals(5130, base.length);
    Random random = new Random(1);
    List<SecAggSite> sites = new ArrayList<>();
    for (String id : ids) {
      sites.add(new SecAggSite(store, id, dir.resolve("state")));
    }
    for (int phase = 0; phase < 4; phase++) {
      for (SecAggSite s : sites) {
        float[] p = base.clone();
        for (int i = 0; i < p.length; i++) {
          p[i] += (float) (random.nextGaussian() * 0.01);
        }
        assertTrue(s.advance(() -> new SecAggSite.Contribution(p, 100)).acted());
      }
      SecureRound.run(
          store,
          Specs.require(store),
          null,
          false,
          System::currentTimeMillis,
          System::currentTimeMillis);
    }
    assertEquals(1, store.requireLatest().round());
    Path r = root.resolve("_secagg/round-000000");
    String version = store.readModel(0, 0).getVersion();
    // magic, baseModelVersion, phase, round and site lines
    long bmv = ("baseModelVersion=" + version + "\n").length();
    long keysHeader = 18 + bmv + "phase=keys\n".length() + 8 + 14;
    long header = 18 + bmv + "phase=shares\n".length() + 8 + 14; // shares and unmask alike
    for (String id : ids) {
      // two base64 X25519 keys (44 characters) with their names, and a 13-digit createdTime
      assertEquals(keysHeader + 59 + 56 + 26, size(r.resolve("keys/" + id + ".txt")));
      // a sealed pair of shares (12 + 132 + 16 bytes, 216 base64 characters) per listed site
      assertEquals(header + n * 229L, size(r.resolve("shares/" + id + ".txt")));
      // a 66-byte share (88 base64 characters) per site of the shares roster
      assertEquals(header + n * 103L, size(r.resolve("unmask/" + id + ".txt")));
      // 5,131 incompressible 64-bit words in Parquet
      long masked = size(r.resolve("masked/" + id + ".parquet"));
      assertTrue(masked > 8 * 5131 && masked < 9 * 5131, "masked " + masked);
    }
  }
}
