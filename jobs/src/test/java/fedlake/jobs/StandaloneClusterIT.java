package fedlake.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.GaussianClasses;
import fedlake.core.init.Federation;
import fedlake.core.model.FloatArrays;
import fedlake.core.store.Store;
import fedlake.core.train.TrainSettings;
import fedlake.edge.EdgeTrain;
import fedlake.jobs.spark.Spark;
import fedlake.schema.Model;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The round job on a real Spark 4.0.1 standalone cluster: a master and two workers, each its own
 * JVM on 127.0.0.1, started from a Spark home whose {@code jars/} holds the Maven Spark jars (what
 * a distribution ships) and none of what fedlake's lean jar carries, so the executors find
 * fedlake's classes only in that jar. The round runs through spark-submit in client and in cluster
 * deploy mode and through bin/fedlake, each on a copy of one store, and publishes a model
 * bit-identical to a local[2] round's. A round with no valid update in cluster deploy mode is a
 * failure (exit 3) for whoever runs it, although spark-submit itself exits 0.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class StandaloneClusterIT {
  private static final long START_MILLIS = 90_000;
  private static final long RUN_MILLIS = 150_000;
  private static final String[] SITES = {"site-a", "site-b", "site-c", "site-d", "site-e"};

  @TempDir static Path dir;

  /** Logs of every process (and the workers' folders) stay here for a look after a failure. */
  private static Path logs;

  private static final List<Process> processes =
      java.util.Collections.synchronizedList(new ArrayList<>());
  private static Path sparkHome;
  private static String jar;
  private static String master;
  private static int masterUi;
  private static Path base;
  private static Model reference;

  @BeforeAll
  static void start() throws Exception {
    jar = System.getProperty("fedlake.spark.jar");
    assertTrue(
        jar != null && Files.isRegularFile(Path.of(jar)),
        "no lean jar at " + jar + " (system property fedlake.spark.jar; run through mvn verify)");
    logs = Files.createDirectories(Path.of(System.getProperty("fedlake.it.logs", dir + "/logs")));
    try (Stream<Path> old = Files.walk(logs)) {
      old.sorted(java.util.Comparator.reverseOrder())
          .filter(p -> !p.equals(logs))
          .forEach(p -> p.toFile().delete());
    }
    sparkHome = sparkHome(dir.resolve("spark-home"), Path.of(jar));
    // if this JVM is ended before @AfterAll runs, the cluster goes with it
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () ->
                    List.copyOf(processes)
                        .forEach(
                            p -> {
                              p.descendants().forEach(ProcessHandle::destroyForcibly);
                              p.destroyForcibly();
                            }),
                "stop-standalone-cluster"));
    int masterPort = freePort();
    masterUi = freePort();
    master = "spark://127.0.0.1:" + masterPort;
    launch(
        "master",
        "org.apache.spark.deploy.master.Master",
        "--host",
        "127.0.0.1",
        "--port",
        String.valueOf(masterPort),
        "--webui-port",
        String.valueOf(masterUi));
    for (int w = 1; w <= 2; w++) {
      launch(
          "worker-" + w,
          "org.apache.spark.deploy.worker.Worker",
          "--host",
          "127.0.0.1",
          "--webui-port",
          String.valueOf(freePort()),
          "--cores",
          "2",
          "--memory",
          "2g",
          "--work-dir",
          Files.createDirectories(logs.resolve("work-" + w)).toString(),
          master);
    }
    // While the cluster boots: the federation every run starts from, and the local round.
    base = federation(dir.resolve("base"));
    Path local = copy("local");
    Run run = inProcess("round", "--store", local.toUri().toString(), "--master", "local[2]");
    assertEquals(0, run.code, run.text);
    reference = Store.open(local.toUri().toString()).readModel(1, 0);
    assertEquals(SITES.length, reference.getParticipants());
    awaitWorkers(2);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    }
  }

  @Test
  void sparkSubmitClientModePublishesTheLocalModel() throws Exception {
    Path store = copy("client");
    Run run =
        sparkSubmit(
            "client",
            List.of("--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.ui.enabled=false"),
            "round",
            "--store",
            store.toUri().toString());
    assertEquals(0, run.code, run.text);
    assertTrue(run.text.contains("Round 0: published"), run.text);
    assertSameModel(store);
    assertRanOnBothWorkers(run);
  }

  @Test
  void sparkSubmitClusterModePublishesTheLocalModelAndRecordsItsOutcome() throws Exception {
    Path store = copy("cluster");
    Path outcome = dir.resolve("cluster.outcome");
    Run run =
        sparkSubmit(
            "cluster",
            List.of("--conf", "spark.standalone.submit.waitAppCompletion=true"),
            "round",
            "--store",
            store.toUri().toString(),
            "--outcome",
            outcome.toUri().toString());
    assertEquals(0, run.code, run.text);
    assertTrue(run.text.contains("State of driver driver-"), run.text);
    assertEquals("exit=0\ncommand=round\n", Files.readString(outcome));
    assertSameModel(store);
    assertRanOnBothWorkers(run);
  }

  @Test
  void binFedlakeClientModeShipsTheLeanJarAndPublishesTheLocalModel() throws Exception {
    Path store = copy("launcher");
    Run run = launcher("round", "--store", store.toUri().toString(), "--master", master);
    assertEquals(0, run.code, run.text);
    assertTrue(run.text.contains("Round 0: published"), run.text);
    assertSameModel(store);
  }

  @Test
  void noValidUpdateInClusterModeIsAFailureNotASuccess() throws Exception {
    Path store = copy("broken");
    // every update of round 0 cut short: none is valid
    try (Stream<Path> files = Files.list(store.resolve("updates/round-000000"))) {
      for (Path f : files.filter(f -> f.toString().endsWith(".parquet")).toList()) {
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(bytes, 100));
      }
    }
    // bin/fedlake in cluster deploy mode submits through spark-submit, which exits 0 although the
    // driver FAILED (Spark's submission client does so for every final state); the driver's
    // outcome file carries its code, and bin/fedlake exits with it.
    Run run =
        launcher(
            "round",
            "--store",
            store.toUri().toString(),
            "--master",
            master,
            "--deploy-mode",
            "cluster");
    assertEquals(3, run.code, run.text);
    assertTrue(run.text.matches("(?s).*State of driver driver-[0-9-]+ is FAILED.*"), run.text);
    assertTrue(run.text.contains("Driver exit code 3 (spark-submit exit 0)"), run.text);
    try (Stream<Path> left = Files.list(store.resolve("_outcomes"))) {
      assertEquals(List.of(), left.toList(), "the outcome file read is removed");
    }
    assertFalse(Store.open(store.toUri().toString()).latest().get().round() > 0);
  }

  @Test
  void clusterDeployModeWithoutAStandaloneMasterIsRefused() throws Exception {
    Run run =
        launcher(
            "round",
            "--store",
            copy("refused").toUri().toString(),
            "--master",
            "yarn",
            "--deploy-mode",
            "cluster");
    assertEquals(2, run.code, run.text);
    assertTrue(
        run.text.contains(
            "fedlake round: option --deploy-mode cluster needs --master spark://HOST:PORT (a standalone master), got 'yarn'"),
        run.text);
  }

  @Test
  void theLeanJarSendsImageJobsToTheImagesJar() throws Exception {
    // Spark's jars and the lean jar, as spark-submit would run it: the encoder is not there
    List<String> command = new ArrayList<>(java("fedlake.jobs.FedlakeMain"));
    int cp = command.indexOf("-cp") + 1;
    command.set(cp, command.get(cp) + File.pathSeparator + jar);
    command.addAll(
        List.of(
            "embed-images",
            "--images",
            dir.toString(),
            "--model",
            dir.resolve("encoder.pt").toString(),
            "--out",
            dir.resolve("embeddings.parquet").toString()));
    Run run = runProcess(environment(new ProcessBuilder(command)), "embed-images-lean");
    assertEquals(2, run.code, run.text);
    assertTrue(
        run.text.contains(
            "fedlake embed-images: the image encoder is not on the class path (missing fedlake/encoder/EncoderSettings): submit fedlake-jobs-*-images.jar for the image jobs, not the -spark.jar\n"),
        run.text);
  }

  // ---- the federation ---------------------------------------------------------------------

  /** init + five sites training from round 0, as the edge runner does. */
  private static Path federation(Path root) {
    Store store = Store.open(root.toUri().toString());
    new Federation(store).dimension(24).classes(5).strategy("fedadam").execute();
    GaussianClasses generator = new GaussianClasses(5, 24, 0.7, 17);
    for (int s = 0; s < SITES.length; s++) {
      new EdgeTrain(store, SITES[s], generator.sample(8 + 3 * s, 40 + s, SITES[s]))
          .settings(TrainSettings.defaults(s).withEpochs(2))
          .execute();
    }
    return root;
  }

  private static Path copy(String name) {
    return SparkTestBase.copyTree(base, dir.resolve(name));
  }

  private static void assertSameModel(Path store) {
    Model model = Store.open(store.toUri().toString()).readModel(1, 0);
    assertEquals(reference.getVersion(), model.getVersion(), "content hash of the model");
    assertEquals(bits(reference.getWeights()), bits(model.getWeights()));
    assertEquals(bits(reference.getBias()), bits(model.getBias()));
    assertEquals(reference.getServerState(), model.getServerState());
    assertEquals(reference.getParticipants(), model.getParticipants());
  }

  /**
   * The run's application had an executor on each worker that fetched the lean jar and finished
   * round tasks.
   */
  private static void assertRanOnBothWorkers(Run run) throws IOException {
    Pattern appId = Pattern.compile("with app ID (app-[0-9]+-[0-9]+)");
    Matcher m = appId.matcher(run.text);
    if (!m.find()) {
      Matcher driver = Pattern.compile("State of driver (driver-[0-9]+-[0-9]+)").matcher(run.text);
      assertTrue(driver.find(), run.text);
      String log = "";
      for (int w = 1; w <= 2; w++) {
        Path stderr = logs.resolve("work-" + w).resolve(driver.group(1)).resolve("stderr");
        if (Files.exists(stderr)) {
          log = Files.readString(stderr);
        }
      }
      m = appId.matcher(log);
      assertTrue(m.find(), "no app ID in the driver's log: " + log);
    }
    String jarName = Path.of(jar).getFileName().toString();
    for (int w = 1; w <= 2; w++) {
      Path app = logs.resolve("work-" + w).resolve(m.group(1));
      assertTrue(Files.isDirectory(app), "no executor of " + m.group(1) + " on worker " + w);
      try (Stream<Path> executors = Files.list(app)) {
        boolean ran = false;
        for (Path executor : executors.toList()) {
          ran |=
              Files.isRegularFile(executor.resolve(jarName))
                  && Files.readString(executor.resolve("stderr")).contains("Finished task");
        }
        assertTrue(ran, "worker " + w + " ran no task of " + m.group(1) + " from " + jarName);
      }
    }
  }

  private static List<Integer> bits(List<Float> values) {
    float[] array = FloatArrays.toArray(values);
    List<Integer> bits = new ArrayList<>(array.length);
    for (float v : array) {
      bits.add(Float.floatToRawIntBits(v));
    }
    return bits;
  }

  // ---- processes --------------------------------------------------------------------------

  private record Run(int code, String text) {}

  private static Run inProcess(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
    int code = FedlakeMain.run(args, print, print);
    return new Run(code, out.toString(StandardCharsets.UTF_8));
  }

  /**
   * A Spark home as a distribution lays it out: {@code jars/} links to every jar of this JVM's
   * class path except fedlake's own modules, the image stack (DJL, JNA, PyTorch) and any jar with a
   * class the lean jar carries; those must come from the lean jar.
   */
  private static Path sparkHome(Path home, Path leanJar) throws IOException {
    Set<String> shipped = new HashSet<>();
    try (ZipFile zip = new ZipFile(leanJar.toFile())) {
      zip.stream()
          .map(ZipEntry::getName)
          // parquet-avro's own relocated copy of fastutil overlaps parquet-column's (same classes)
          .filter(n -> n.endsWith(".class") && !n.startsWith("shaded/parquet/"))
          .forEach(shipped::add);
    }
    Path jars = Files.createDirectories(home.resolve("jars"));
    Pattern excluded = Pattern.compile("fedlake|djl|jna-|pytorch|junit|opentest4j|apiguardian");
    int linked = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      String name = path.getFileName().toString();
      if (!name.endsWith(".jar") || !Files.isRegularFile(path) || excluded.matcher(name).find()) {
        continue;
      }
      if (carriesAny(path, shipped)) {
        continue;
      }
      Path link = jars.resolve(name);
      if (!Files.exists(link)) {
        Files.createSymbolicLink(link, path.toAbsolutePath());
        linked++;
      }
    }
    assertTrue(linked > 100, "Spark's jars: " + linked);
    assertFalse(Files.exists(jars.resolve("parquet-avro-1.15.2.jar")), "parquet-avro");
    assertTrue(Files.exists(jars.resolve("parquet-hadoop-1.15.2.jar")), "parquet-hadoop");
    return home;
  }

  private static boolean carriesAny(Path jarFile, Set<String> classes) throws IOException {
    try (ZipFile zip = new ZipFile(jarFile.toFile())) {
      return zip.stream().anyMatch(e -> classes.contains(e.getName()));
    }
  }

  private static List<String> java(String mainClass) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx512m");
    command.addAll(Arrays.asList(Spark.JAVA_OPTIONS.split(" ")));
    command.add("-cp");
    command.add(sparkHome.resolve("jars") + File.separator + "*");
    command.add(mainClass);
    return command;
  }

  private static ProcessBuilder environment(ProcessBuilder builder) {
    Map<String, String> env = builder.environment();
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_SCALA_VERSION", "2.13");
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("SPARK_LOCAL_HOSTNAME", "127.0.0.1");
    // the client compiler only, in every JVM of the cluster (executors and drivers inherit the
    // workers' environment): they live for seconds; Java's float arithmetic is the same either way
    env.put("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1");
    return builder;
  }

  private static void launch(String name, String mainClass, String... args) throws IOException {
    List<String> command = java(mainClass);
    command.addAll(List.of(args));
    Path log = logs.resolve(name + ".log");
    Process p =
        environment(new ProcessBuilder(command))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    processes.add(p);
  }

  private static Run sparkSubmit(String deployMode, List<String> conf, String... args)
      throws Exception {
    List<String> command = java("org.apache.spark.deploy.SparkSubmit");
    command.addAll(
        List.of(
            "--master",
            master,
            "--deploy-mode",
            deployMode,
            "--class",
            "fedlake.jobs.FedlakeMain",
            "--driver-memory",
            "512m",
            "--executor-memory",
            "512m",
            "--total-executor-cores",
            "2",
            "--executor-cores",
            "1",
            // schedule once both executors registered, so that both workers get round tasks
            "--conf",
            "spark.scheduler.minRegisteredResourcesRatio=1.0",
            "--conf",
            "spark.driver.extraJavaOptions=" + Spark.JAVA_OPTIONS,
            "--conf",
            "spark.executor.extraJavaOptions=" + Spark.JAVA_OPTIONS));
    command.addAll(conf);
    command.add(Path.of(jar).toUri().toString());
    command.addAll(List.of(args));
    return runProcess(environment(new ProcessBuilder(command)), "spark-submit-" + deployMode);
  }

  /** The real bin/fedlake, on this JVM's class path (no Maven build inside the build). */
  private static Run launcher(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(System.getProperty("fedlake.launcher"));
    command.addAll(List.of(args));
    ProcessBuilder builder = environment(new ProcessBuilder(command));
    builder.environment().put("FEDLAKE_CLASSPATH", System.getProperty("java.class.path"));
    builder.environment().put("FEDLAKE_JAR", jar);
    builder.environment().put("FEDLAKE_HEAP", "-Xmx768m");
    return runProcess(builder, "fedlake-" + args[0]);
  }

  private static Run runProcess(ProcessBuilder builder, String name) throws Exception {
    Path log = logs.resolve(name + "-" + processes.size() + ".log");
    long started = System.nanoTime();
    Process p = builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    processes.add(p);
    if (!p.waitFor(RUN_MILLIS, TimeUnit.MILLISECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      throw new AssertionError(name + " did not end in time:\n" + tail(log));
    }
    System.out.printf(
        "%s: exit %d after %.1f s%n", name, p.exitValue(), (System.nanoTime() - started) / 1e9);
    return new Run(p.exitValue(), Files.readString(log) + driverLogs());
  }

  /** The cluster-mode drivers' logs (they run on a worker), for failure messages. */
  private static String driverLogs() throws IOException {
    StringBuilder text = new StringBuilder();
    for (int w = 1; w <= 2; w++) {
      try (Stream<Path> files = Files.walk(logs.resolve("work-" + w))) {
        for (Path f :
            files
                .filter(f -> f.toString().contains("driver-") && f.endsWith("stdout"))
                .sorted()
                .toList()) {
          text.append("\n--- ").append(f).append(":\n").append(Files.readString(f));
        }
      }
    }
    return text.toString();
  }

  private static String tail(Path log) {
    try {
      String text = Files.readString(log);
      return text.substring(Math.max(0, text.length() - 4000));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Polls the master's JSON page until it counts {@code workers} alive workers. */
  private static void awaitWorkers(int workers) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUi + "/json/"))
            .timeout(Duration.ofSeconds(5))
            .build();
    Pattern alive = Pattern.compile("\"aliveworkers\"\\s*:\\s*(\\d+)");
    long deadline = System.currentTimeMillis() + START_MILLIS;
    String last = "no answer";
    while (System.currentTimeMillis() < deadline) {
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new AssertionError(
              "a cluster process ended (exit "
                  + p.exitValue()
                  + "):\n"
                  + tail(logs.resolve("master.log"))
                  + tail(logs.resolve("worker-1.log"))
                  + tail(logs.resolve("worker-2.log")));
        }
      }
      try {
        last = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = alive.matcher(last);
        if (m.find() && Integer.parseInt(m.group(1)) >= workers) {
          return;
        }
      } catch (IOException e) {
        last = e.toString();
      }
      TimeUnit.MILLISECONDS.sleep(200); // poll interval, bounded by the deadline above
    }
    throw new AssertionError(
        "the master did not count " + workers + " alive workers in time: " + last);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
