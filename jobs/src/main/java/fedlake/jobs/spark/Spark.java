package fedlake.jobs.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The SparkSession of a fedlake command: the one spark-submit configured, or local[*]. */
public final class Spark {
  /**
   * The JVM options Spark 4.0 needs on Java 17 (bin/fedlake and the root pom pass the same list),
   * and Java 17's incubating Vector API for the round's exact sums (bin/fedlake adds it to Spark
   * commands): set for executors on a cluster master unless spark-submit or {@code --conf} set
   * them.
   */
  public static final String JAVA_OPTIONS =
      String.join(
          " ",
          "-XX:+IgnoreUnrecognizedVMOptions",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.net=ALL-UNNAMED",
          "--add-opens=java.base/java.nio=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
          "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
          "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
          "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
          "-Djdk.reflect.useDirectMethodHandle=false",
          "-Dio.netty.tryReflectionSetAccessible=true",
          // the exact sums of the round run eight values at a time (fedlake.core.numeric.ExactSum)
          "--add-modules=jdk.incubator.vector");

  /**
   * System property naming fedlake's lean jar ({@code fedlake-jobs-*-spark.jar}); bin/fedlake sets
   * it when the master is not local, so that the executors get fedlake's classes.
   */
  public static final String JAR_PROPERTY = "fedlake.jar";

  private Spark() {}

  /** Whether {@code master} runs everything in this JVM ({@code local}, {@code local[N]}, ...). */
  public static boolean isLocal(String master) {
    return master == null || master.startsWith("local");
  }

  /**
   * Returns the active session or builds one. Without a master from spark-submit or {@code
   * --master}, runs {@code local[*]} bound to 127.0.0.1 with the UI off. On any other master the
   * executors get the Java 17 options and, unless spark-submit shipped an application jar, the jar
   * named by system property {@value #JAR_PROPERTY}.
   */
  public static SparkSession session(String appName, String master) {
    SparkConf conf = new SparkConf().setAppName(appName);
    if (master != null) {
      conf.setMaster(master);
    }
    if (!conf.contains("spark.master")) {
      conf.setMaster("local[*]");
    }
    if (isLocal(conf.get("spark.master"))) {
      conf.setIfMissing("spark.driver.host", "127.0.0.1");
      conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
      conf.setIfMissing("spark.ui.enabled", "false");
      conf.setIfMissing("spark.sql.shuffle.partitions", "4");
    } else {
      conf.setIfMissing("spark.executor.extraJavaOptions", JAVA_OPTIONS);
      String jar = System.getProperty(JAR_PROPERTY);
      if (jar != null && !conf.contains("spark.jars")) {
        conf.set("spark.jars", jar);
      }
    }
    // a round task returns one fold of the model's size (24 bytes a parameter): send it with the
    // task's status instead of through the block manager (the default limit is 1 MiB)
    conf.setIfMissing("spark.task.maxDirectResultSize", "64m");
    SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
    spark.sparkContext().setLogLevel(System.getProperty("fedlake.spark.log-level", "WARN"));
    return spark;
  }
}
