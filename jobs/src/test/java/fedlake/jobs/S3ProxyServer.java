package fedlake.jobs;

import fedlake.core.store.StoreConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 server for tests: s3proxy (jar copied to target/ by the build, path in system property
 * {@value #JAR_PROPERTY}) in its own JVM on 127.0.0.1 and a free port, storing objects as files
 * under a folder. {@link #close} stops the process; a shutdown hook stops it if the test JVM exits
 * first.
 */
public final class S3ProxyServer implements AutoCloseable {
  static final String JAR_PROPERTY = "fedlake.s3proxy.jar";
  public static final String ACCESS_KEY = "fedlake-test-access-key";
  public static final String SECRET_KEY = "fedlake-test-secret-key";
  private static final long START_TIMEOUT_MILLIS = 60_000;
  private static final int START_ATTEMPTS = 3;

  private final String jar;
  private final Path dir;
  private final Path blobs;
  private final Thread shutdownHook;
  private Process process;
  private int port;
  private Path log;
  private int attempt;

  private S3ProxyServer(String jar, Path dir, Path blobs) {
    this.jar = jar;
    this.dir = dir;
    this.blobs = blobs;
    this.shutdownHook = new Thread(this::stop, "stop-s3proxy");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Launches s3proxy with its storage and log under {@code dir} and returns at once, so the caller
   * can start other things while it boots; {@link #awaitListening} waits for it.
   */
  public static S3ProxyServer launch(Path dir) throws IOException {
    String jar = System.getProperty(JAR_PROPERTY);
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException(
          "No s3proxy jar at "
              + jar
              + " (system property "
              + JAR_PROPERTY
              + "); run the tests through Maven, which copies it to jobs/target/s3proxy at generate-test-resources");
    }
    S3ProxyServer server =
        new S3ProxyServer(jar, dir, Files.createDirectories(dir.resolve("blobs")));
    server.launchProcess();
    return server;
  }

  private void launchProcess() throws IOException {
    attempt++;
    port = freePort();
    Path properties = dir.resolve("s3proxy-" + attempt + ".properties");
    Files.writeString(
        properties,
        String.join(
            "\n",
            "s3proxy.endpoint=http://127.0.0.1:" + port,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS_KEY,
            "s3proxy.credential=" + SECRET_KEY,
            "jclouds.provider=filesystem-nio2",
            "jclouds.identity=local",
            "jclouds.credential=local",
            "jclouds.filesystem.basedir=" + blobs,
            ""),
        StandardCharsets.UTF_8);
    log = dir.resolve("s3proxy-" + attempt + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder(
                List.of(java, "-Xmx256m", "-jar", jar, "--properties", properties.toString()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().put("LOG_LEVEL", "warn");
    process = builder.start();
  }

  /**
   * Waits until the server accepts connections. If another process took its port meanwhile,
   * launches it again on a new one, so {@link #endpoint} may change.
   */
  public S3ProxyServer awaitListening() throws IOException, InterruptedException {
    while (true) {
      try {
        awaitPort();
        return this;
      } catch (IllegalStateException e) {
        stop();
        if (attempt >= START_ATTEMPTS || !logText().contains("Address already in use")) {
          throw e;
        }
        launchProcess();
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress("127.0.0.1", 0));
      return socket.getLocalPort();
    }
  }

  private void awaitPort() throws InterruptedException {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "s3proxy exited with code "
                + process.exitValue()
                + " before listening on port "
                + port
                + ":\n"
                + logText());
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    throw new IllegalStateException(
        "s3proxy did not listen on port "
            + port
            + " within "
            + START_TIMEOUT_MILLIS
            + " ms:\n"
            + logText());
  }

  String logText() {
    try {
      if (!Files.exists(log)) {
        return "(no log)";
      }
      // The last lines; logback's start-up chatter comes first.
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** The endpoint URL, e.g. http://127.0.0.1:41234. */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  /** The S3A settings that reach this server, as a user of an S3-compatible server sets them. */
  public Map<String, String> s3aSettings() {
    return Map.of(
        StoreConfig.ENDPOINT,
        endpoint(),
        StoreConfig.PATH_STYLE_ACCESS,
        "true",
        StoreConfig.SSL_ENABLED,
        "false",
        StoreConfig.ACCESS_KEY,
        ACCESS_KEY,
        StoreConfig.SECRET_KEY,
        SECRET_KEY);
  }

  /** Where the server keeps the object {@code key} of {@code bucket} on disk. */
  public Path objectFile(String bucket, String key) {
    return blobs.resolve(bucket).resolve(key);
  }

  /** Creates a bucket the way an operator would, with the AWS SDK v2 S3 client. */
  public void createBucket(String bucket) {
    try (S3Client s3 =
        S3Client.builder()
            .endpointOverride(URI.create(endpoint()))
            .region(Region.US_EAST_1)
            .forcePathStyle(true)
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
            .build()) {
      s3.createBucket(request -> request.bucket(bucket));
    }
  }

  private void stop() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs or ran anyway
    }
  }
}
