package fedlake.core.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  @Test
  void filesOfTheRoundFolderAreWrittenByTheirNamesAlone() {
    String folder = "file:/store/updates/round-000007/";
    List<UpdateFile> files = new java.util.ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      files.add(new UpdateFile(folder + "site-" + i + "--" + i + ".parquet", 40_000 + i));
    }
    files.add(new UpdateFile("file:/store/updates/round-000006/late--1.parquet", 7)); // pending
    files.add(new UpdateFile(folder + "sub", -1)); // a folder in the round's folder
    RoundClaim claim =
        new RoundClaim(7, 1, "j", "h", 1, 2, 3, new TreeMap<>(java.util.Map.of(0, "v")), files);

    String text = claim.format();

    assertEquals(claim, RoundClaim.parse(text, "claim-0001"));
    assertEquals(1, text.split(java.util.regex.Pattern.quote("round-000007"), -1).length - 1);
    assertTrue(text.contains("\n40999 site-999--999.parquet\n"));
    assertTrue(text.contains("\n7 file\\:/store/updates/round-000006/late--1.parquet\n"));
  }

  @Test
  void aClaimOfTheEarlierFormReadsBack() {
    String text =
        "round=2\ngeneration=1\njob=j\nhost=h\npid=5\nprocessStart=6\nclaimedTime=7\n"
            + "base.0=r2-c0-x\nfiles=2\nfile.0=file\\:/s/a--1.parquet\nbytes.0=10\n"
            + "file.1=file\\:/s/b\\ c--2.parquet\nbytes.1=-1\n";

    RoundClaim read = RoundClaim.parse(text, "claim-0001");

    assertEquals(
        List.of(
            new UpdateFile("file:/s/a--1.parquet", 10),
            new UpdateFile("file:/s/b c--2.parquet", -1)),
        read.files());
    assertEquals(2, read.round());
    assertEquals("r2-c0-x", read.bases().get(0));
  }

  @Test
  void aClaimWhoseListIsCutShortIsRefused() {
    RoundClaim claim =
        new RoundClaim(
            1,
            1,
            "j",
            "h",
            1,
            2,
            3,
            new TreeMap<>(java.util.Map.of(0, "v")),
            List.of(
                new UpdateFile("file:/s/a--1.parquet", 1),
                new UpdateFile("file:/s/b--2.parquet", 2)));
    String text = claim.format();
    String cut = text.substring(0, text.lastIndexOf("2 b--2.parquet"));

    fedlake.core.InvalidInputException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            fedlake.core.InvalidInputException.class, () -> RoundClaim.parse(cut, "claim-0001"));
    assertTrue(e.reason().contains("lists 1 files where it says 2"), e.reason());
  }
}
