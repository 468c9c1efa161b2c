package fedlake.core.client;

import fedlake.core.data.Npy;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Everything a site keeps between rounds for one store, in one folder ({@code STATE_DIR/<hash of
 * the store URI>/<site>/}): named float vectors per cluster (today SCAFFOLD's control variate,
 * {@link ScaffoldClient#CONTROL}; room for more, e.g. soft labels or local parts) listed in a
 * versioned manifest, {@value #MANIFEST}.
 *
 * <p>Crash safety: a commit writes each changed vector to a new file named after the new revision
 * (temp file, then rename), then replaces the manifest by a rename; the manifest is the commit
 * point. A crash at any moment leaves the previous manifest and the files it names intact; files it
 * does not name (a crashed commit's vectors and temp files) are ignored and removed by the next
 * commit.
 *
 * <p>The manifest: {@code format} ({@value #FORMAT}; a higher one is refused), {@code revision}
 * (one more every commit), and per vector {@code vector.cluster-<c>.<name>} (its file) and {@code
 * written.cluster-<c>.<name>} (the revision that wrote it).
 *
 * <p>State of the layout before this one ({@code <hash>/<site>-cluster-<c>.npy}, SCAFFOLD control
 * variates) is read when the folder has no manifest yet, in the order of the files' modification
 * times, and written in this layout by the first commit; the old files are left where they are.
 */
public final class SiteState {
  public static final String MANIFEST = "manifest.properties";
  public static final int FORMAT = 1;
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,63}");
  private static final Pattern KEY = Pattern.compile("cluster-(\\d{1,9})\\.([a-z][a-z0-9-]{0,63})");

  /** A vector kept for a cluster. */
  public record Carried(int cluster, float[] values) {}

  /**
   * One kept vector: its values, the file holding them (null until committed) and the revision that
   * wrote it.
   */
  private record Entry(float[] values, String file, long written) {}

  private final Path folder;
  private final long revision;
  private final Map<String, Entry> entries;
  private final List<String> notes;

  private SiteState(Path folder, long revision, Map<String, Entry> entries, List<String> notes) {
    this.folder = folder;
    this.revision = revision;
    this.entries = entries;
    this.notes = notes;
  }

  /**
   * The folder of a site's state for a store: {@code stateDir/<12 hex digits of SHA-256 of
   * storeRoot>/<site>}.
   */
  public static Path folder(Path stateDir, String storeRoot, String site) {
    return storeFolder(stateDir, storeRoot).resolve(site);
  }

  private static Path storeFolder(Path stateDir, String storeRoot) {
    try {
      byte[] hash =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(storeRoot.getBytes(StandardCharsets.UTF_8));
      return stateDir.resolve(java.util.HexFormat.of().formatHex(hash, 0, 6));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An empty state that is never saved, for training outside the edge runner. */
  public static SiteState empty() {
    return new SiteState(null, 0, new LinkedHashMap<>(), List.of());
  }

  /** Reads the site's state ({@link #folder}); an absent folder is an empty state. */
  public static SiteState open(Path stateDir, String storeRoot, String site) {
    return open(folder(stateDir, storeRoot, site));
  }

  /**
   * Reads the state in {@code folder}; without a manifest, the old layout's files beside the
   * folder.
   */
  public static SiteState open(Path folder) {
    Path manifest = folder.resolve(MANIFEST);
    List<String> notes = new ArrayList<>();
    if (!Files.exists(manifest)) {
      return legacy(folder, notes);
    }
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(manifest, StandardCharsets.UTF_8)) {
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot read the site state " + manifest + ": " + e.getMessage(), e);
    }
    int format = integer(properties, "format", manifest);
    if (format > FORMAT) {
      throw new IllegalStateException(
          "The site state "
              + manifest
              + " has format "
              + format
              + "; this runner reads format "
              + FORMAT
              + " and older (upgrade the runner, or move the folder away to start afresh)");
    }
    long revision = integer(properties, "revision", manifest);
    Map<String, Entry> entries = new LinkedHashMap<>();
    for (String property :
        new TreeMap<>(properties).keySet().stream().map(Object::toString).toList()) {
      if (!property.startsWith("vector.")) {
        continue;
      }
      String key = property.substring("vector.".length());
      String file = properties.getProperty(property);
      if (!KEY.matcher(key).matches() || file.contains("/") || file.contains("\\")) {
        throw new IllegalStateException(
            "The site state " + manifest + " has a bad entry: " + property + "=" + file);
      }
      long written = integer(properties, "written." + key, manifest);
      Path path = folder.resolve(file);
      if (!Files.exists(path)) {
        notes.add("ignoring kept " + key + ": " + path + " is missing");
        continue;
      }
      entries.put(key, new Entry(read(path), file, written));
    }
    return new SiteState(folder, revision, entries, notes);
  }

  private static int integer(Properties properties, String name, Path manifest) {
    String value = properties.getProperty(name);
    try {
      return Integer.parseInt(value == null ? "" : value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalStateException(
          "The site state " + manifest + " has no whole number '" + name + "' (got " + value + ")");
    }
  }

  /**
   * The state of the previous layout: {@code <store folder>/<site>-cluster-<c>.npy}, oldest first.
   */
  private static SiteState legacy(Path folder, List<String> notes) {
    Path parent = folder.getParent();
    Map<String, Entry> entries = new LinkedHashMap<>();
    if (parent == null || !Files.isDirectory(parent)) {
      return new SiteState(folder, 0, entries, notes);
    }
    String site = folder.getFileName().toString();
    Pattern pattern = Pattern.compile(Pattern.quote(site + "-cluster-") + "(\\d{1,9})\\.npy");
    List<Path> files;
    try (Stream<Path> listed = Files.list(parent)) {
      files =
          listed
              .filter(f -> pattern.matcher(f.getFileName().toString()).matches())
              .sorted((a, b) -> modified(a).compareTo(modified(b)))
              .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot list the site state in " + parent + ": " + e.getMessage(), e);
    }
    long written = 0;
    for (Path file : files) {
      Matcher m = pattern.matcher(file.getFileName().toString());
      m.matches();
      written++;
      entries.put(
          key(Integer.parseInt(m.group(1)), ScaffoldClient.CONTROL),
          new Entry(read(file), null, written));
      notes.add(
          "read the control variate of cluster " + m.group(1) + " from the old state file " + file);
    }
    return new SiteState(folder, written, entries, notes);
  }

  private static java.nio.file.attribute.FileTime modified(Path file) {
    try {
      return Files.getLastModifiedTime(file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static float[] read(Path file) {
    double[] values = Npy.read(file).values();
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  private static String key(int cluster, String name) {
    if (cluster < 0) {
      throw new IllegalArgumentException("Cluster must be >= 0, got " + cluster);
    }
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "Bad state name '" + name + "': use lower-case letters, digits and '-'");
    }
    return "cluster-" + cluster + "." + name;
  }

  /** Where the state lives; null for {@link #empty()}. */
  public Path folder() {
    return folder;
  }

  /** How many commits made this state (0 for none). */
  public long revision() {
    return revision;
  }

  /** What reading the state noticed (vectors missing, old files read), for the log. */
  public List<String> notes() {
    return Collections.unmodifiableList(notes);
  }

  /** A copy of the vector {@code name} kept for {@code cluster}, or null. */
  public float[] vector(int cluster, String name) {
    Entry entry = entries.get(key(cluster, name));
    return entry == null ? null : entry.values().clone();
  }

  /** The vector {@code name} written last, over all clusters, or null. */
  public Carried latest(String name) {
    key(0, name);
    Carried best = null;
    long bestWritten = Long.MIN_VALUE;
    for (Map.Entry<String, Entry> e : entries.entrySet()) {
      Matcher m = KEY.matcher(e.getKey());
      if (m.matches() && m.group(2).equals(name) && e.getValue().written() > bestWritten) {
        bestWritten = e.getValue().written();
        best = new Carried(Integer.parseInt(m.group(1)), e.getValue().values().clone());
      }
    }
    return best;
  }

  /** Clusters and names of the kept vectors, as {@code cluster-<c>.<name>}. */
  public Set<String> keys() {
    return Collections.unmodifiableSet(entries.keySet());
  }

  /** Starts a change; nothing is written before {@link Edit#commit()}. */
  public Edit edit() {
    return new Edit();
  }

  /** Changes to a site state, written together by {@link #commit()}. */
  public final class Edit {
    private final Map<String, float[]> puts = new LinkedHashMap<>();

    private Edit() {}

    public Edit put(int cluster, String name, float[] values) {
      puts.put(key(cluster, name), values.clone());
      return this;
    }

    /**
     * Writes the changes and returns the new state; the state this edit came from stays as it was.
     */
    public SiteState commit() {
      if (folder == null) {
        throw new IllegalStateException("This site state is not kept anywhere");
      }
      long next = revision + 1;
      Map<String, Entry> committed = new LinkedHashMap<>(entries);
      try {
        Files.createDirectories(folder);
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
          if (e.getValue().file() == null && !puts.containsKey(e.getKey())) {
            // read from the old layout: written in this one now
            committed.put(
                e.getKey(), write(e.getKey(), e.getValue().values(), next, e.getValue().written()));
          }
        }
        for (Map.Entry<String, float[]> e : puts.entrySet()) {
          committed.put(e.getKey(), write(e.getKey(), e.getValue(), next, next));
        }
        writeManifest(next, committed);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot save the site state in " + folder + ": " + e.getMessage(), e);
      }
      removeUnlisted(committed);
      return new SiteState(folder, next, committed, List.of());
    }

    private Entry write(String key, float[] values, long fileRevision, long written)
        throws IOException {
      String file = key + ".r" + fileRevision + ".npy";
      Path temporary = folder.resolve("." + file + "." + UUID.randomUUID() + ".tmp");
      Npy.writeFloat32(temporary, values, 1, values.length);
      force(temporary);
      Files.move(
          temporary,
          folder.resolve(file),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      return new Entry(values, file, written);
    }

    private void writeManifest(long next, Map<String, Entry> committed) throws IOException {
      StringBuilder text = new StringBuilder();
      text.append(
          "# fedlake site state: what this site keeps between rounds. Written by the edge runner; do not edit.\n");
      text.append("format=").append(FORMAT).append('\n');
      text.append("revision=").append(next).append('\n');
      for (Map.Entry<String, Entry> e : new TreeMap<>(committed).entrySet()) {
        text.append("vector.")
            .append(e.getKey())
            .append('=')
            .append(e.getValue().file())
            .append('\n');
        text.append("written.")
            .append(e.getKey())
            .append('=')
            .append(e.getValue().written())
            .append('\n');
      }
      Path temporary = folder.resolve("." + MANIFEST + "." + UUID.randomUUID() + ".tmp");
      try (OutputStream out = Files.newOutputStream(temporary, StandardOpenOption.CREATE_NEW)) {
        out.write(text.toString().getBytes(StandardCharsets.ISO_8859_1));
      }
      force(temporary);
      Files.move(
          temporary,
          folder.resolve(MANIFEST),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    }

    private void force(Path file) throws IOException {
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
        channel.force(true);
      }
    }

    /**
     * Best effort: files of earlier revisions and of crashed commits; the manifest no longer names
     * them.
     */
    private void removeUnlisted(Map<String, Entry> committed) {
      Set<String> keep = new HashSet<>();
      keep.add(MANIFEST);
      committed.values().forEach(e -> keep.add(e.file()));
      try (Stream<Path> files = Files.list(folder)) {
        for (Path f : files.toList()) {
          String name = f.getFileName().toString();
          boolean ours =
              name.endsWith(".npy")
                      && KEY.matcher(name.replaceFirst("\\.r\\d+\\.npy$", "")).matches()
                  || name.startsWith(".") && name.endsWith(".tmp");
          if (ours && !keep.contains(name)) {
            try {
              Files.deleteIfExists(f);
            } catch (NoSuchFileException ignored) {
              // gone already
            }
          }
        }
      } catch (IOException e) {
        // leftovers do no harm: the manifest does not name them
      }
    }
  }
}
