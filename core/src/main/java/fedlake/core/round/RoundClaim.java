package fedlake.core.round;

import fedlake.core.InvalidInputException;
import fedlake.core.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * A round job's claim on a round: {@code ROOT/models/_claims/round-RRRRRR/claim-GGGG}, created only
 * if absent, before the job writes anything else. The holder of the highest generation is the one
 * job that may write the round's models, audit and history and move the pointer; a job that finds a
 * live claim stops ("lost the race") without writing. The claim records what it decided: the base
 * model versions and the update files (name and length) of the round, so that the job that takes
 * over a dead holder's claim aggregates exactly the same files into the same model versions.
 *
 * <p>A claim is dead when its process is known to be gone: same host and the process id is not
 * running (or runs another process, told by its start time), or same process and the job has ended.
 * A claim from another host holds for {@code robustness.claimTimeoutMinutes} after it was made. A
 * dead claim is taken over by creating the next generation, again only if absent.
 */
public record RoundClaim(
    int round,
    int generation,
    String job,
    String host,
    long pid,
    long processStart,
    long claimedTime,
    SortedMap<Integer, String> bases,
    List<UpdateFile> files) {

  private static final Pattern NAME = Pattern.compile("claim-(\\d{4,})");

  /** Jobs of this JVM that hold a claim and have not ended. */
  private static final Set<String> RUNNING = ConcurrentHashMap.newKeySet();

  private static final String HOST = hostName();
  private static final long PID = ProcessHandle.current().pid();
  private static final long PROCESS_START = startOf(ProcessHandle.current());

  public RoundClaim {
    bases = new TreeMap<>(bases);
    files = List.copyOf(files);
  }

  /** A claim of this process for {@code job}. */
  static RoundClaim mine(
      int round,
      int generation,
      String job,
      long now,
      SortedMap<Integer, String> bases,
      List<UpdateFile> files) {
    return new RoundClaim(round, generation, job, HOST, PID, PROCESS_START, now, bases, files);
  }

  /** The folder holding the claims of {@code round}. */
  public static Path folder(Store store, int round) {
    return store.path("models/_claims/" + Store.roundName(round));
  }

  public Path file(Store store) {
    return new Path(folder(store, round), String.format("claim-%04d", generation));
  }

  /** The highest-generation claim of {@code round}, or empty. */
  public static Optional<RoundClaim> current(Store store, int round) {
    Path dir = folder(store, round);
    try {
      if (!store.fileSystem().exists(dir)) {
        return Optional.empty();
      }
      Path best = null;
      int generation = -1;
      for (FileStatus status : store.fileSystem().listStatus(dir)) {
        Matcher m = NAME.matcher(status.getPath().getName());
        if (status.isFile() && m.matches() && Integer.parseInt(m.group(1)) > generation) {
          generation = Integer.parseInt(m.group(1));
          best = status.getPath();
        }
      }
      if (best == null) {
        return Optional.empty();
      }
      String text;
      try (InputStream in = store.fileSystem().open(best)) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      return Optional.of(parse(text, best.toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot read the claims of round " + round + " in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * Creates this claim's file unless a claim of the same generation exists; true when this job now
   * holds the round.
   */
  boolean create(Store store) {
    String text = format();
    try {
      boolean created =
          store.createAtomically(
              file(store),
              path -> {
                try (OutputStream out = store.fileSystem(path).create(path, false)) {
                  out.write(text.getBytes(StandardCharsets.UTF_8));
                }
              });
      if (created) {
        RUNNING.add(job);
      }
      return created;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot claim round " + round + " in " + file(store) + ": " + e.getMessage(), e);
    }
  }

  /**
   * Removes every claim of {@code round}: its holder ended without publishing anything, so the next
   * run may list the round afresh. Call only while holding the highest claim.
   */
  static void release(Store store, int round) {
    Path dir = folder(store, round);
    try {
      store.fileSystem().delete(dir, true);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot release the claims of round " + round + " in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** This job has ended (published, failed or lost): a claim it left is dead from now on. */
  static void ended(String job) {
    RUNNING.remove(job);
  }

  /** Whether the job that made this claim may still be running (see the class comment). */
  boolean live(long now, long timeoutMillis) {
    if (HOST.equals(host)) {
      if (pid == PID) {
        return processStart == PROCESS_START && RUNNING.contains(job);
      }
      Optional<ProcessHandle> process = ProcessHandle.of(pid);
      if (process.isEmpty() || !process.get().isAlive()) {
        return false;
      }
      long start = startOf(process.get());
      return start == 0 || processStart == 0 || start == processStart;
    }
    return now - claimedTime < timeoutMillis;
  }

  /** Who holds the claim, for messages. */
  String holder() {
    return "job "
        + job
        + " (host "
        + host
        + ", process "
        + pid
        + ", claimed "
        + Instant.ofEpochMilli(claimedTime)
        + ")";
  }

  /** The line that ends a claim's properties and begins its list of update files. */
  private static final String FILES =
      "# update files: length, then name (in 'folder' unless it holds a '/')";

  /**
   * The claim as text: its facts as properties, then one line per update file with its length and
   * its name, relative to the folder most of them share. 10,000 files take about 400 KB.
   */
  String format() {
    TreeMap<String, String> properties = new TreeMap<>();
    properties.put("round", Integer.toString(round));
    properties.put("generation", Integer.toString(generation));
    properties.put("job", job);
    properties.put("host", host);
    properties.put("pid", Long.toString(pid));
    properties.put("processStart", Long.toString(processStart));
    properties.put("claimedTime", Long.toString(claimedTime));
    bases.forEach((cluster, version) -> properties.put("base." + cluster, version));
    properties.put("files", Integer.toString(files.size()));
    String folder =
        files.isEmpty()
            ? ""
            : files.get(0).uri().substring(0, files.get(0).uri().lastIndexOf('/') + 1);
    properties.put("folder", folder);
    StringBuilder text =
        new StringBuilder(64 * files.size() + 512)
            .append(
                "# fedlake round claim: the one job that publishes this round, and the update"
                    + " files it aggregates\n");
    properties.forEach(
        (key, value) -> text.append(escape(key)).append('=').append(escape(value)).append('\n'));
    text.append(FILES).append('\n');
    for (UpdateFile f : files) {
      String uri = f.uri();
      boolean inFolder =
          !folder.isEmpty() && uri.startsWith(folder) && uri.indexOf('/', folder.length()) < 0;
      text.append(f.bytes())
          .append(' ')
          .append(escape(inFolder ? uri.substring(folder.length()) : uri))
          .append('\n');
    }
    return text.toString();
  }

  /**
   * Properties escaping of one key or value (reads back through {@link Properties#load}): the
   * characters that are special in either, spaces and anything outside printable ASCII escaped.
   */
  private static String escape(String text) {
    int i = 0;
    while (i < text.length() && plain(text.charAt(i))) {
      i++;
    }
    if (i == text.length()) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 8).append(text, 0, i);
    for (; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case ' ' -> out.append("\\ ");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\f' -> out.append("\\f");
        case '=', ':', '#', '!' -> out.append('\\').append(c);
        default -> {
          if (plain(c)) {
            out.append(c);
          } else {
            out.append(String.format("\\u%04x", (int) c));
          }
        }
      }
    }
    return out.toString();
  }

  private static boolean plain(char c) {
    return c > 0x20 && c < 0x7f && c != '\\' && c != '=' && c != ':' && c != '#' && c != '!';
  }

  /** Reads a claim written by {@link #format} (or by fedlake before 0.2: properties only). */
  static RoundClaim parse(String text, String file) {
    int list = text.indexOf("\n" + FILES + "\n");
    Properties properties = new Properties();
    try {
      properties.load(new StringReader(list < 0 ? text : text.substring(0, list + 1)));
    } catch (IOException | IllegalArgumentException e) {
      throw new InvalidInputException(file, "round claim is not readable: " + e.getMessage());
    }
    List<UpdateFile> files = new ArrayList<>();
    try {
      int count = Integer.parseInt(required(properties, "files", file));
      if (list < 0) { // the earlier form: file.N and bytes.N properties
        for (int i = 0; i < count; i++) {
          files.add(
              new UpdateFile(
                  required(properties, "file." + i, file),
                  Long.parseLong(required(properties, "bytes." + i, file))));
        }
      } else {
        String folder = required(properties, "folder", file);
        int at = list + FILES.length() + 2;
        while (at < text.length()) {
          int end = text.indexOf('\n', at);
          end = end < 0 ? text.length() : end;
          int space = text.indexOf(' ', at);
          if (space < 0 || space > end) {
            throw new InvalidInputException(
                file, "round claim has a file line without a length: " + text.substring(at, end));
          }
          long bytes = Long.parseLong(text.substring(at, space));
          String name = unescape(text.substring(space + 1, end), file);
          files.add(new UpdateFile(name.indexOf('/') < 0 ? folder + name : name, bytes));
          at = end + 1;
        }
        if (files.size() != count) {
          throw new InvalidInputException(
              file, "round claim lists " + files.size() + " files where it says " + count);
        }
      }
      SortedMap<Integer, String> bases = new TreeMap<>();
      for (String key : properties.stringPropertyNames()) {
        if (key.startsWith("base.")) {
          bases.put(Integer.parseInt(key.substring(5)), properties.getProperty(key));
        }
      }
      return new RoundClaim(
          Integer.parseInt(required(properties, "round", file)),
          Integer.parseInt(required(properties, "generation", file)),
          required(properties, "job", file),
          required(properties, "host", file),
          Long.parseLong(required(properties, "pid", file)),
          Long.parseLong(required(properties, "processStart", file)),
          Long.parseLong(required(properties, "claimedTime", file)),
          bases,
          files);
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          file, "round claim holds a malformed number: " + e.getMessage());
    }
  }

  /** The inverse of {@link #escape}. */
  private static String unescape(String text, String file) {
    if (text.indexOf('\\') < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c != '\\' || i + 1 == text.length()) {
        out.append(c);
        continue;
      }
      char next = text.charAt(++i);
      switch (next) {
        case 't' -> out.append('\t');
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 'f' -> out.append('\f');
        case 'u' -> {
          if (i + 5 > text.length()) {
            throw new InvalidInputException(file, "round claim has a broken escape in " + text);
          }
          out.append((char) Integer.parseInt(text.substring(i + 1, i + 5), 16));
          i += 4;
        }
        default -> out.append(next);
      }
    }
    return out.toString();
  }

  private static String required(Properties p, String key, String file) {
    String value = p.getProperty(key);
    if (value == null) {
      throw new InvalidInputException(file, "round claim has no '" + key + "'");
    }
    return value;
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException | RuntimeException e) {
      String env = System.getenv("HOSTNAME");
      return env == null || env.isBlank() ? "unknown-host" : env;
    }
  }

  private static long startOf(ProcessHandle process) {
    return process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
  }
}
