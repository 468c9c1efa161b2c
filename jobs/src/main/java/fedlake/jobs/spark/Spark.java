package fedlake.jobs.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The SparkSession of a fedlake command: the one spark-submit configured, or local[*]. */
public final class Spark {
  private Spark() {}

  /**
   * Returns the active session or builds one. Without a master from spark-submit or {@code
   * --master}, runs {@code local[*]} bound to 127.0.0.1 with the UI off.
   */
  public static SparkSession session(String appName, String master) {
    SparkConf conf = new SparkConf().setAppName(appName);
    if (master != null) {
      conf.setMaster(master);
    }
    if (!conf.contains("spark.master")) {
      conf.setMaster("local[*]");
    }
    if (conf.get("spark.master").startsWith("local")) {
      conf.setIfMissing("spark.driver.host", "127.0.0.1");
      conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
      conf.setIfMissing("spark.ui.enabled", "false");
      conf.setIfMissing("spark.sql.shuffle.partitions", "4");
    }
    // a round task returns one fold of the model's size (24 bytes a parameter): send it with the
    // task's status
    // instead of through the block manager (the default limit is 1 MiB)
    conf.setIfMissing("spark.task.maxDirectResultSize", "64m");
    SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
    spark.sparkContext().setLogLevel(System.getProperty("fedlake.spark.log-level", "WARN"));
    return spark;
  }
}
