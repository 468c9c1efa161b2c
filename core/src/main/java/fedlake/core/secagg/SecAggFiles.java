package fedlake.core.secagg;

import fedlake.core.InvalidInputException;
import fedlake.core.store.ParquetFiles;
import fedlake.core.store.Store;
import fedlake.schema.MaskedUpdate;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * Where the phases of one round's secure aggregation live, and how they are written and read:
 *
 * <pre>
 * ROOT/_secagg/round-RRRRRR/keys/SITE.txt          phase 1: the site's two X25519 public keys
 * ROOT/_secagg/round-RRRRRR/roster-keys.txt        the round job closes phase 1: sites, file hashes, t
 * ROOT/_secagg/round-RRRRRR/shares/SITE.txt        phase 2: encrypted shares for every listed site
 * ROOT/_secagg/round-RRRRRR/roster-shares.txt
 * ROOT/_secagg/round-RRRRRR/masked/SITE.parquet    phase 3: the masked input (MaskedUpdate)
 * ROOT/_secagg/round-RRRRRR/roster-masked.txt
 * ROOT/_secagg/round-RRRRRR/unmask/SITE.txt        phase 4: the shares that remove the masks
 * ROOT/_secagg/round-RRRRRR/roster-unmask.txt
 * ROOT/_secagg/round-RRRRRR/failed.txt             the round ended without a sum, and why
 * </pre>
 *
 * Every file is created once (create-if-absent, atomic on file systems), never replaced.
 */
public final class SecAggFiles {
  public static final String FOLDER = "_secagg";
  public static final String[] PHASES = {"keys", "shares", "masked", "unmask"};

  private final Store store;
  private final int round;

  public SecAggFiles(Store store, int round) {
    this.store = store;
    this.round = round;
  }

  public Store store() {
    return store;
  }

  public int round() {
    return round;
  }

  public Path roundDir() {
    return store.path(FOLDER + "/" + Store.roundName(round));
  }

  public Path phaseFile(int phase, String site) {
    return new Path(new Path(roundDir(), PHASES[phase]), site + (phase == 2 ? ".parquet" : ".txt"));
  }

  public Path roster(int phase) {
    return new Path(roundDir(), "roster-" + PHASES[phase] + ".txt");
  }

  public Path failed() {
    return new Path(roundDir(), "failed.txt");
  }

  /** Sites with a file in phase {@code phase}'s folder, by site id (from the file name). */
  public TreeMap<String, FileStatus> listPhase(int phase) {
    TreeMap<String, FileStatus> out = new TreeMap<>();
    String suffix = phase == 2 ? ".parquet" : ".txt";
    for (FileStatus status : store.listVisible(new Path(roundDir(), PHASES[phase]), suffix)) {
      String name = status.getPath().getName();
      out.put(name.substring(0, name.length() - suffix.length()), status);
    }
    return out;
  }

  public boolean exists(Path file) {
    try {
      return store.fileSystem().exists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Creates {@code target} with {@code bytes} unless it exists; false when it did. */
  public boolean create(Path target, byte[] bytes) {
    try {
      return store.createAtomically(
          target,
          path -> {
            try (OutputStream out = store.fileSystem(path).create(path, true)) {
              out.write(bytes);
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + target + ": " + e.getMessage(), e);
    }
  }

  /** The bytes of {@code file}, or empty when it does not exist. */
  public Optional<byte[]> read(Path file) {
    try (InputStream in = store.fileSystem().open(file)) {
      byte[] bytes = in.readNBytes(PhaseFile.MAX_BYTES + 1);
      if (bytes.length > PhaseFile.MAX_BYTES) {
        throw new InvalidInputException(
            file.toString(), "is larger than " + PhaseFile.MAX_BYTES + " bytes");
      }
      return Optional.of(bytes);
    } catch (FileNotFoundException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  public Optional<PhaseFile> readPhase(Path file) {
    return read(file).map(b -> PhaseFile.parse(b, file.toString()));
  }

  /** Writes a masked update once; false when the site wrote one already. */
  public boolean writeMasked(MaskedUpdate masked) {
    Path target = phaseFile(2, masked.getSite());
    try {
      return store.createAtomically(
          target,
          path ->
              ParquetFiles.write(
                  path, store.conf(), MaskedUpdate.getClassSchema(), List.of(masked)));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + target + ": " + e.getMessage(), e);
    }
  }

  /** The one row of a masked update file. */
  public MaskedUpdate readMasked(Path file) {
    List<MaskedUpdate> rows = store.readRecords(file, MaskedUpdate.getClassSchema());
    if (rows.size() != 1) {
      throw new InvalidInputException(
          file.toString(), "holds " + rows.size() + " rows, a masked update holds one");
    }
    return rows.get(0);
  }

  /** What a site signs of its masked update: SHA-256 over every field but the signature. */
  public static byte[] digest(MaskedUpdate m) {
    byte[] head =
        String.format(
                Locale.ROOT,
                "fedlake-secagg-masked-v1\n%s\n%d\n%s\n%d\n%d\n%s\n%d\n",
                m.getSite(),
                m.getRound(),
                m.getBaseModelVersion(),
                m.getSpecVersion(),
                m.getCreatedTime().toEpochMilli(),
                m.getKeyId(),
                m.getValues().size())
            .getBytes(StandardCharsets.UTF_8);
    ByteBuffer buffer = ByteBuffer.allocate(head.length + 8 * m.getValues().size());
    buffer.put(head);
    for (Long v : m.getValues()) {
      buffer.putLong(v);
    }
    return PhaseFile.sha256(buffer.array());
  }
}
