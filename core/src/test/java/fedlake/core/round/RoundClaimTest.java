package fedlake.core.round;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class RoundClaimTest {
  @Test
  void aClaimReadsBackAsWrittenWhateverItsFileNamesHold() {
    List<UpdateFile> files =
        List.of(
            new UpdateFile("file:/store/updates/round-000003/site-a--1.parquet", 1234),
            new UpdateFile("file:/a b/c=d:e#f!g\\h/site-é--2.parquet", 5),
            new UpdateFile("s3a://bucket/x\ty\nz\r\f--3.parquet", 0));
    TreeMap<Integer, String> bases = new TreeMap<>();
    bases.put(0, "r3-c0-abc");
    bases.put(2, "r3-c2-d=f");
    RoundClaim claim = new RoundClaim(3, 2, "job 1", "host:x", 42, 1000, 2000, bases, files);

    RoundClaim read = RoundClaim.parse(claim.format(), "claim-0002");

    assertEquals(claim, read);
  }
}
