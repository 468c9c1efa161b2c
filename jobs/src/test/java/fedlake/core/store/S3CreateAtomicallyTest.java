package fedlake.core.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.jobs.S3ProxyServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Store#createAtomically} on a real S3 server: s3proxy 3.0.0, which honours {@code
 * If-None-Match: *} on PutObject (HTTP 412 when the key exists).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class S3CreateAtomicallyTest {
  private static final String BUCKET = "fedlake-create";

  @TempDir static Path dir;
  private static S3ProxyServer server;
  private static Store store;

  @BeforeAll
  static void start() throws Exception {
    server = S3ProxyServer.launch(dir.resolve("s3proxy")).awaitListening();
    server.createBucket(BUCKET);
    store = Store.open("s3a://" + BUCKET + "/fed", conf());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static Configuration conf() {
    Configuration conf = new Configuration();
    server.s3aSettings().forEach(conf::set);
    return conf;
  }

  private static Store.FileWriter text(String content) {
    return path -> {
      try (OutputStream out = store.fileSystem(path).create(path, false)) {
        out.write(content.getBytes(StandardCharsets.UTF_8));
      }
    };
  }

  private static String read(org.apache.hadoop.fs.Path file) throws IOException {
    try (InputStream in = store.fileSystem().open(file)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static List<String> localTemporaries() throws IOException {
    try (Stream<Path> files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(name -> name.contains("fedlake-create-"))
          .toList();
    }
  }

  @Test
  void theFirstCallCreatesTheObjectAndTheSecondLeavesIt() throws IOException {
    org.apache.hadoop.fs.Path target = store.path("things/one.txt");

    assertTrue(store.createAtomically(target, text("first")));
    assertFalse(store.createAtomically(target, text("second, other content")));

    assertEquals("first", read(target));
    assertEquals(
        "first",
        Files.readString(server.objectFile(BUCKET, "fed/things/one.txt")),
        "on the server");
    assertEquals(
        List.of("one.txt"),
        Stream.of(store.fileSystem().listStatus(store.path("things")))
            .map(s -> s.getPath().getName())
            .toList(),
        "no probe object or temporary file left in the folder");
    assertEquals(List.of(), localTemporaries(), "the local temporary files are deleted");
  }

  @Test
  void theProbeFindsThatTheServerHonoursConditionalWritesAndRemovesItsObject() throws IOException {
    Configuration conf = conf();
    conf.setBoolean("fs.s3a.impl.disable.cache", true); // a file system nobody probed yet
    try (FileSystem fs = Store.fileSystem("s3a://" + BUCKET + "/", conf)) {
      org.apache.hadoop.fs.Path folder =
          new org.apache.hadoop.fs.Path("s3a://" + BUCKET + "/probed");

      assertTrue(ConditionalPut.of(fs).honoured(folder));

      assertFalse(fs.exists(folder), "the probe object is deleted");
    }
  }
}
