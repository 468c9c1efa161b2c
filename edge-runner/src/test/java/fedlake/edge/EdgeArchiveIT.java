package fedlake.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.GaussianClasses;
import fedlake.core.data.Npy;
import fedlake.core.init.Federation;
import fedlake.core.round.UpdateReader;
import fedlake.core.store.Store;
import fedlake.encoder.TinyTorchScript;
import fedlake.schema.Update;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The archives {@code mvn package} builds, used as a site would: unpacked with {@code tar} into a
 * clean folder, the launcher started as a child process through a symlink from another folder, with
 * an environment that holds nothing but HOME (a fresh folder) and a way to find {@code java}
 * (JAVA_HOME, or java on a PATH that holds nothing else but {@code readlink}: no Maven, no source
 * checkout). Runs in failsafe after {@code package} ({@code mvn verify}).
 */
class EdgeArchiveIT {
  private static final String VERSION = System.getProperty("fedlake.edge.version");
  private static final int DIMENSION = 8;
  private static final int CLASSES = 3;
  private static final long TIMEOUT_SECONDS = 180;

  @TempDir static Path dir;
  private static Path base;
  private static Path images;
  private static Path tools;
  private static Path toolsWithoutJava;

  record Run(int exitCode, String out, String err, Path home) {}

  @BeforeAll
  static void unpack() throws Exception {
    base = untar(System.getProperty("fedlake.edge.archive"), "fedlake-edge-" + VERSION);
    images =
        untar(System.getProperty("fedlake.edge.images.archive"), "fedlake-edge-images-" + VERSION);
    // a PATH with java and readlink only
    tools = Files.createDirectories(dir.resolve("tools"));
    Files.createSymbolicLink(tools.resolve("java"), javaHome().resolve("bin/java"));
    Path readlink =
        Stream.of("/usr/bin/readlink", "/bin/readlink")
            .map(Path::of)
            .filter(Files::isExecutable)
            .findFirst()
            .orElseThrow(() -> new IllegalStateException("no readlink on this machine"));
    Files.createSymbolicLink(tools.resolve("readlink"), readlink);
    toolsWithoutJava = Files.createDirectories(dir.resolve("tools-without-java"));
    Files.createSymbolicLink(toolsWithoutJava.resolve("readlink"), readlink);
  }

  private static Path javaHome() {
    return Path.of(System.getProperty("java.home"));
  }

  /** Unpacks {@code archive} with the system's tar into a new folder; returns {@code top}. */
  private static Path untar(String archive, String top) throws Exception {
    assertTrue(archive != null && Files.isRegularFile(Path.of(archive)), "archive " + archive);
    Path into = Files.createDirectories(dir.resolve("unpacked-" + top));
    Process tar =
        new ProcessBuilder("tar", "-xzf", archive, "-C", into.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(tar.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "tar finished");
    assertEquals(0, tar.exitValue(), "tar: " + output);
    try (Stream<Path> entries = Files.list(into)) {
      assertEquals(List.of(into.resolve(top)), entries.toList(), "one top folder");
    }
    return into.resolve(top);
  }

  /**
   * Runs the launcher of {@code home} through a symlink in another folder, from a third folder,
   * with the environment {@code env} plus a fresh HOME.
   */
  private static Run launch(Path home, Map<String, String> env, String... args) throws Exception {
    Path links = Files.createDirectories(dir.resolve("links"));
    Path link = links.resolve(home.getFileName().toString());
    if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      Files.createSymbolicLink(link, home.resolve("bin/fedlake-edge"));
    }
    return launchVia(link, env, args);
  }

  /** Runs {@code command} (the launcher or a link to it) from a fresh folder with a fresh HOME. */
  private static Run launchVia(Path link, Map<String, String> env, String... args)
      throws Exception {
    Path work = Files.createTempDirectory(dir, "cwd");
    List<String> command = new ArrayList<>(List.of(link.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(work.toFile())
            .redirectOutput(work.resolve("stdout").toFile())
            .redirectError(work.resolve("stderr").toFile());
    builder.environment().clear();
    Path fresh = Files.createTempDirectory(dir, "home");
    builder.environment().put("HOME", fresh.toString());
    builder.environment().putAll(env);
    Process process = builder.start();
    if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("fedlake-edge did not finish in " + TIMEOUT_SECONDS + " s");
    }
    return new Run(
        process.exitValue(),
        Files.readString(work.resolve("stdout")),
        Files.readString(work.resolve("stderr")),
        fresh);
  }

  private static Map<String, String> javaOnPath() {
    return Map.of("PATH", tools.toString());
  }

  private static Map<String, String> javaHomeOnly() {
    return Map.of("JAVA_HOME", javaHome().toString(), "PATH", toolsWithoutJava.toString());
  }

  private static List<String> libJars(Path home) throws IOException {
    try (Stream<Path> files = Files.list(home.resolve("lib"))) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void baseArchiveHoldsTheRunnerAndS3ButNoSparkNoEncoderNoPytorch() throws IOException {
    assertTrue(Files.isExecutable(base.resolve("bin/fedlake-edge")), "executable launcher");
    List<String> jars = libJars(base);
    for (String needed :
        List.of(
            "fedlake-edge-runner-" + VERSION + ".jar",
            "fedlake-core-" + VERSION + ".jar",
            "fedlake-schemas-" + VERSION + ".jar",
            "parquet-hadoop-",
            "hadoop-client-api-",
            "hadoop-client-runtime-",
            "hadoop-aws-",
            "s3-2.",
            "sts-2.",
            "commons-lang3-",
            "slf4j-nop-")) {
      assertTrue(jars.stream().anyMatch(j -> j.startsWith(needed)), needed + " in " + jars);
    }
    for (String banned :
        List.of("spark", "scala", "djl", "pytorch", "api-0.", "jna-", "gson", "encoder", "junit")) {
      assertFalse(jars.stream().anyMatch(j -> j.contains(banned)), banned + " in " + jars);
    }
    List<String> extra = new ArrayList<>(libJars(images));
    extra.removeAll(jars);
    assertEquals(
        List.of(
            "api-0.35.1.jar",
            "error_prone_annotations-2.38.0.jar",
            "fedlake-encoder-" + VERSION + ".jar",
            "gson-2.13.1.jar",
            "jna-5.17.0.jar",
            "pytorch-engine-0.35.1.jar",
            "pytorch-jni-2.7.1-0.35.1.jar",
            "pytorch-native-cpu-2.7.1-linux-x86_64.jar"),
        extra,
        "what the images archive adds");
  }

  @Test
  void versionAndTrainHelpWithJavaOnPathOrJavaHome() throws Exception {
    for (Map<String, String> env : List.of(javaOnPath(), javaHomeOnly())) {
      Run version = launch(base, env, "--version");
      assertEquals(0, version.exitCode(), version.err());
      assertEquals(
          "fedlake-edge "
              + VERSION
              + " (base variant: trains on --data embeddings; --images needs the images variant;"
              + " update format of runner "
              + EdgeTrain.VERSION
              + ")\n",
          version.out());
      Run help = launch(base, env, "train", "--help");
      assertEquals(0, help.exitCode(), help.err());
      assertTrue(
          help.out()
              .startsWith(
                  "usage: fedlake-edge train --store URI --site ID (--data PATH | --images DIR"
                      + " --encoder PATH_OR_URL) [options]\n"),
          help.out());
      assertTrue(help.out().contains("  --state-dir DIR"), help.out());
    }
  }

  @Test
  void launcherFollowsAChainOfRelativeSymlinks() throws Exception {
    // /usr/local/bin/fe -> ../lib/fe -> ../../opt/.../bin/fedlake-edge, all relative
    Path root = Files.createDirectories(dir.resolve("relative"));
    Files.createDirectories(root.resolve("usr/local/bin"));
    Files.createDirectories(root.resolve("usr/local/lib"));
    Path opt = Files.createDirectories(root.resolve("opt"));
    Files.createSymbolicLink(opt.resolve("fedlake"), opt.relativize(base));
    Files.createSymbolicLink(
        root.resolve("usr/local/lib/fe"), Path.of("../../../opt/fedlake/bin/fedlake-edge"));
    Files.createSymbolicLink(root.resolve("usr/local/bin/fe"), Path.of("../lib/fe"));
    Run version = launchVia(root.resolve("usr/local/bin/fe"), javaOnPath(), "--version");
    assertEquals(0, version.exitCode(), version.err());
    assertTrue(
        version.out().startsWith("fedlake-edge " + VERSION + " (base variant"), version.out());
  }

  @Test
  void withoutJavaTheLauncherSaysWhatIsMissing() throws Exception {
    Run run = launch(base, Map.of("PATH", toolsWithoutJava.toString()), "--version");
    assertEquals(2, run.exitCode());
    assertEquals(
        "fedlake-edge: no java found: install a Java 17+ runtime and put it on PATH, or set"
            + " JAVA_HOME\n",
        run.err());
    Run wrong =
        launch(
            base,
            Map.of("JAVA_HOME", dir.resolve("nojava").toString(), "PATH", tools.toString()),
            "--version");
    assertEquals(2, wrong.exitCode());
    assertEquals(
        "fedlake-edge: JAVA_HOME="
            + dir.resolve("nojava")
            + " has no bin/java; point it at a Java 17+ runtime or unset it\n",
        wrong.err());
  }

  /** A store with the round-0 model and its URI. */
  private static String newStore(String name) {
    String uri = dir.resolve(name).toUri().toString();
    new Federation(Store.open(uri)).dimension(DIMENSION).classes(CLASSES).execute();
    return uri;
  }

  private static List<Update> updates(String storeUri) throws IOException {
    Path folder = Path.of(java.net.URI.create(storeUri)).resolve("updates/round-000000");
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    List<Update> found = new ArrayList<>();
    try (Stream<Path> files = Files.list(folder)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".parquet")).sorted().toList()) {
        found.add(new UpdateReader(new Configuration()).read(file.toUri().toString()));
      }
    }
    return found;
  }

  @Test
  void baseArchiveTrainsAndUploadsAValidUpdate() throws Exception {
    String store = newStore("store-base");
    Dataset data = new GaussianClasses(CLASSES, DIMENSION, 0.5, 11).sample(10, 1, "site");
    Path folder = Files.createDirectories(dir.resolve("site-data"));
    Npy.writeFloat32(folder.resolve("X.npy"), data.features(), data.size(), DIMENSION);
    Npy.writeInt32(folder.resolve("y.npy"), data.labels());

    Run run =
        launch(
            base,
            javaHomeOnly(),
            "train",
            "--store",
            store,
            "--site",
            "hospital-7",
            "--data",
            folder.toString(),
            "--seed",
            "5");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("site hospital-7: wrote "), run.out());

    List<Update> updates = updates(store);
    assertEquals(1, updates.size());
    Update update = updates.get(0);
    assertEquals("hospital-7", update.getSite());
    assertEquals(0, update.getRound());
    assertEquals(data.size(), update.getNumExamples());
    assertEquals(CLASSES * DIMENSION, update.getWeights().size());
    assertEquals(CLASSES, update.getBias().size());
    assertTrue(update.getWeights().stream().allMatch(Float::isFinite), "finite weights");
    assertTrue(update.getWeights().stream().anyMatch(w -> w != 0f), "trained weights");
    assertEquals(List.of(10L, 10L, 10L), update.getLabelHistogram());
    assertEquals(EdgeTrain.VERSION, update.getRunnerVersion());
  }

  @Test
  void baseArchiveSaysThatImagesNeedTheImagesVariant() throws Exception {
    String store = newStore("store-base-images");
    Run run =
        launch(
            base,
            javaOnPath(),
            "train",
            "--store",
            store,
            "--site",
            "a",
            "--images",
            dir.toString(),
            "--encoder",
            "clip.pt");
    assertEquals(2, run.exitCode(), run.err());
    assertEquals(
        "fedlake-edge: --images needs the images variant of the edge runner (fedlake-edge-images-"
            + VERSION
            + ".tar.gz, with the image encoder and PyTorch); this is the base variant: install the"
            + " images variant, or embed elsewhere and pass --data\n",
        run.err());
    assertEquals(List.of(), updates(store));
  }

  @Test
  void imagesArchiveEmbedsOfflineAndUploads() throws Exception {
    Run version = launch(images, javaOnPath(), "--version");
    assertEquals(0, version.exitCode(), version.err());
    assertTrue(
        version.out().startsWith("fedlake-edge " + VERSION + " (images variant: "), version.out());

    String store = newStore("store-images");
    Path model = dir.resolve("models/tiny-clip.pt");
    Files.createDirectories(model.getParent());
    TinyTorchScript.quadrantLinear(DIMENSION, 42).save(model);
    Path pictures = dir.resolve("pictures");
    int[] colours = {0xc02010, 0x20b030, 0x1030d0};
    for (int c = 0; c < CLASSES; c++) {
      for (int i = 0; i < 2; i++) {
        BufferedImage image = new BufferedImage(30 + 10 * i, 30, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < image.getHeight(); y++) {
          for (int x = 0; x < image.getWidth(); x++) {
            image.setRGB(x, y, x < 15 ? colours[c] : colours[(c + i + 1) % CLASSES]);
          }
        }
        Path file = pictures.resolve(c + "/p" + i + ".png");
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(image, "png", file.toFile()));
      }
    }
    // HOME is a fresh folder: DJL unpacks the CPU libtorch from the archive's jar, offline
    Run run =
        launch(
            images,
            javaHomeOnly(),
            "train",
            "--store",
            store,
            "--site",
            "plant-3",
            "--images",
            pictures.toString(),
            "--encoder",
            model.toString());
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.err().contains("embedded 6, cached 0"), run.err());
    assertTrue(
        Files.isDirectory(run.home().resolve(".djl.ai/pytorch")),
        "libtorch unpacked from the archive under the fresh HOME");
    assertTrue(
        Files.isDirectory(run.home().resolve(".fedlake/state/embeddings")),
        "the embedding cache in the default state dir under HOME");
    List<Update> updates = updates(store);
    assertEquals(1, updates.size());
    assertEquals("plant-3", updates.get(0).getSite());
    assertEquals(6, updates.get(0).getNumExamples());
    assertEquals(List.of(2L, 2L, 2L), updates.get(0).getLabelHistogram());
  }

  @Test
  void baseArchiveUploadsToS3WithCredentialsFromTheEnvironment() throws Exception {
    String jar = System.getProperty("fedlake.s3proxy.jar");
    assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "s3proxy jar " + jar);
    Path blobs = Files.createDirectories(dir.resolve("s3/blobs"));
    Files.createDirectories(blobs.resolve("site-bucket")); // a bucket is a folder to s3proxy
    int port;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String endpoint = "http://127.0.0.1:" + port;
    Path properties = dir.resolve("s3/s3proxy.properties");
    Files.writeString(
        properties,
        String.join(
            "\n",
            "s3proxy.endpoint=" + endpoint,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=site-access-key",
            "s3proxy.credential=site-secret-key",
            "jclouds.provider=filesystem-nio2",
            "jclouds.identity=local",
            "jclouds.credential=local",
            "jclouds.filesystem.basedir=" + blobs,
            ""));
    Process server =
        new ProcessBuilder(
                javaHome().resolve("bin/java").toString(),
                "-Xmx256m",
                "-jar",
                jar,
                "--properties",
                properties.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("s3/s3proxy.log").toFile())
            .start();
    try {
      awaitPort(server, port);
      String store = "s3a://site-bucket/federation";
      Configuration conf = new Configuration();
      conf.set("fs.s3a.endpoint", endpoint);
      conf.set("fs.s3a.endpoint.region", "us-east-1");
      conf.set("fs.s3a.path.style.access", "true");
      conf.set("fs.s3a.connection.ssl.enabled", "false");
      conf.set("fs.s3a.access.key", "site-access-key");
      conf.set("fs.s3a.secret.key", "site-secret-key");
      new Federation(Store.open(store, conf)).dimension(DIMENSION).classes(CLASSES).execute();
      Dataset data = new GaussianClasses(CLASSES, DIMENSION, 0.5, 11).sample(4, 2, "s3-site");
      Path folder = Files.createDirectories(dir.resolve("s3-site-data"));
      Npy.writeFloat32(folder.resolve("X.npy"), data.features(), data.size(), DIMENSION);
      Npy.writeInt32(folder.resolve("y.npy"), data.labels());

      Map<String, String> env = new java.util.HashMap<>(javaOnPath());
      env.put("AWS_ACCESS_KEY_ID", "site-access-key");
      env.put("AWS_SECRET_ACCESS_KEY", "site-secret-key");
      env.put("AWS_REGION", "us-east-1");
      env.put("FEDLAKE_S3_ENDPOINT", endpoint);
      Run run =
          launch(
              base,
              env,
              "train",
              "--store",
              store,
              "--site",
              "shop-12",
              "--data",
              folder.toString(),
              "--quiet");
      assertEquals(0, run.exitCode(), run.err());

      // the object as the S3 server stores it
      Path uploaded = blobs.resolve("site-bucket/federation/updates/round-000000");
      List<Path> objects;
      try (Stream<Path> files = Files.list(uploaded)) {
        objects = files.filter(f -> f.toString().endsWith(".parquet")).toList();
      }
      assertEquals(1, objects.size(), "one update object");
      Update update = new UpdateReader(new Configuration()).read(objects.get(0).toUri().toString());
      assertEquals("shop-12", update.getSite());
      assertEquals(data.size(), update.getNumExamples());
      assertEquals(CLASSES * DIMENSION, update.getWeights().size());
    } finally {
      server.destroy();
      if (!server.waitFor(10, TimeUnit.SECONDS)) {
        server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** Polls until {@code server} accepts connections on {@code port}, for at most a minute. */
  private static void awaitPort(Process server, int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        throw new AssertionError(
            "s3proxy exited: " + Files.readString(dir.resolve("s3/s3proxy.log")));
      }
      try (java.net.Socket socket = new java.net.Socket()) {
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException notYet) {
        server.waitFor(100, TimeUnit.MILLISECONDS); // returns early only if the server exits
      }
    }
    throw new AssertionError("s3proxy did not listen on port " + port + " within 60 s");
  }
}
