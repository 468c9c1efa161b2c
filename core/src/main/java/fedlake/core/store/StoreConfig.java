package fedlake.core.store;

import fedlake.core.cli.Args;
import fedlake.core.cli.Option;
import java.net.URI;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;

/**
 * The Hadoop settings a fedlake command uses to reach its store, taken from environment variables
 * and {@code --conf KEY=VALUE} options. Later sources win: Hadoop defaults and {@code *-site.xml}
 * files (under Spark also {@code spark.hadoop.*}), then the environment, then {@code --conf}
 * options in command-line order. See docs/s3.md.
 *
 * <p>Environment variables, named as the AWS tools name them:
 *
 * <ul>
 *   <li>{@code AWS_ACCESS_KEY_ID} and {@code AWS_SECRET_ACCESS_KEY} (both or neither) set {@code
 *       fs.s3a.access.key} and {@code fs.s3a.secret.key}; {@code AWS_SESSION_TOKEN} sets {@code
 *       fs.s3a.session.token}
 *   <li>{@code AWS_REGION}, else {@code AWS_DEFAULT_REGION}, sets {@code fs.s3a.endpoint.region}
 *   <li>{@code FEDLAKE_S3_ENDPOINT}, else {@code AWS_ENDPOINT_URL}, sets {@code fs.s3a.endpoint}.
 *       An endpoint outside amazonaws.com (MinIO, Ceph, ...) also turns on {@code
 *       fs.s3a.path.style.access}, and an {@code http://} endpoint turns off {@code
 *       fs.s3a.connection.ssl.enabled}; {@code --conf} can set either back.
 * </ul>
 *
 * A {@code --conf} key may carry Spark's {@code spark.hadoop.} prefix; it is removed.
 */
public final class StoreConfig {
  /** Name of the repeatable command-line option, without dashes. */
  public static final String OPTION = "conf";

  public static final String ENDPOINT_VARIABLE = "FEDLAKE_S3_ENDPOINT";
  public static final String AWS_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL";
  public static final String ACCESS_KEY_VARIABLE = "AWS_ACCESS_KEY_ID";
  public static final String SECRET_KEY_VARIABLE = "AWS_SECRET_ACCESS_KEY";
  public static final String SESSION_TOKEN_VARIABLE = "AWS_SESSION_TOKEN";
  public static final String REGION_VARIABLE = "AWS_REGION";
  public static final String DEFAULT_REGION_VARIABLE = "AWS_DEFAULT_REGION";

  public static final String ENDPOINT = "fs.s3a.endpoint";
  public static final String REGION = "fs.s3a.endpoint.region";
  public static final String PATH_STYLE_ACCESS = "fs.s3a.path.style.access";
  public static final String SSL_ENABLED = "fs.s3a.connection.ssl.enabled";
  public static final String ACCESS_KEY = "fs.s3a.access.key";
  public static final String SECRET_KEY = "fs.s3a.secret.key";
  public static final String SESSION_TOKEN = "fs.s3a.session.token";

  /** {@code --conf KEY=VALUE}, declared once for every command that reaches a store. */
  public static final Option CONF =
      Option.value(
          OPTION,
          "KEY=VALUE",
          "Hadoop setting for the store, repeatable, e.g. --conf fs.s3a.endpoint=http://127.0.0.1:9000"
              + " (environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, "
              + ENDPOINT_VARIABLE
              + "; see docs/s3.md)");

  /** {@code --store URI}, the federation's store; a command may give it its own help. */
  public static final Option STORE =
      Option.value(
          "store", "URI", "the federation's store: a local folder or a URI (file:, s3a://...)");

  /** The usage line of {@link #CONF}. */
  public static final String USAGE = CONF.usage();

  private static final String SPARK_PREFIX = "spark.hadoop.";
  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private final Map<String, String> settings = new LinkedHashMap<>();

  private StoreConfig() {}

  /** No settings: the store sees Hadoop's defaults only. */
  public static StoreConfig empty() {
    return new StoreConfig();
  }

  /**
   * The settings of a command line: this process's environment, then the {@code --conf} options.
   */
  public static StoreConfig of(Args args) {
    return fromEnvironment(System.getenv()).options(args.all(OPTION));
  }

  /**
   * The settings named by {@code environment} (variable name to value); blank values count as
   * unset.
   */
  public static StoreConfig fromEnvironment(Map<String, String> environment) {
    StoreConfig config = new StoreConfig();
    String accessKey = variable(environment, ACCESS_KEY_VARIABLE);
    String secretKey = variable(environment, SECRET_KEY_VARIABLE);
    if ((accessKey == null) != (secretKey == null)) {
      String set = accessKey != null ? ACCESS_KEY_VARIABLE : SECRET_KEY_VARIABLE;
      String missing = accessKey != null ? SECRET_KEY_VARIABLE : ACCESS_KEY_VARIABLE;
      throw new IllegalArgumentException(
          "Cannot configure the store: "
              + set
              + " is set but "
              + missing
              + " is not (set both, or neither to use another credential source)");
    }
    if (accessKey != null) {
      config.settings.put(ACCESS_KEY, accessKey);
      config.settings.put(SECRET_KEY, secretKey);
    }
    String token = variable(environment, SESSION_TOKEN_VARIABLE);
    if (token != null) {
      config.settings.put(SESSION_TOKEN, token);
    }
    String region = variable(environment, REGION_VARIABLE);
    if (region == null) {
      region = variable(environment, DEFAULT_REGION_VARIABLE);
    }
    if (region != null) {
      config.settings.put(REGION, region);
    }
    String endpoint = variable(environment, ENDPOINT_VARIABLE);
    String endpointSource = ENDPOINT_VARIABLE;
    if (endpoint == null) {
      endpoint = variable(environment, AWS_ENDPOINT_VARIABLE);
      endpointSource = AWS_ENDPOINT_VARIABLE;
    }
    if (endpoint != null) {
      config.endpoint(endpoint, endpointSource);
    }
    return config;
  }

  private void endpoint(String endpoint, String source) {
    String host;
    try {
      host = URI.create(endpoint.contains("://") ? endpoint : "https://" + endpoint).getHost();
    } catch (IllegalArgumentException e) {
      host = null;
    }
    if (host == null) {
      throw new IllegalArgumentException(
          "Cannot configure the store: "
              + source
              + " '"
              + endpoint
              + "' is not an endpoint URL such as http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com");
    }
    settings.put(ENDPOINT, endpoint);
    if (!host.toLowerCase(Locale.ROOT).endsWith(".amazonaws.com")) {
      settings.put(PATH_STYLE_ACCESS, "true");
    }
    if (endpoint.toLowerCase(Locale.ROOT).startsWith("http://")) {
      settings.put(SSL_ENABLED, "false");
    }
  }

  private static String variable(Map<String, String> environment, String name) {
    String value = environment.get(name);
    return value == null || value.isBlank() ? null : value.trim();
  }

  /** Applies {@code KEY=VALUE} options in order; a later one wins. */
  public StoreConfig options(List<String> keyValues) {
    for (String option : keyValues) {
      int eq = option.indexOf('=');
      String key = eq < 0 ? "" : option.substring(0, eq).trim();
      if (key.startsWith(SPARK_PREFIX)) {
        key = key.substring(SPARK_PREFIX.length());
      }
      if (!KEY.matcher(key).matches()) {
        throw new IllegalArgumentException(
            "option --"
                + OPTION
                + " expects KEY=VALUE with a Hadoop setting name,"
                + " e.g. --conf fs.s3a.endpoint=http://127.0.0.1:9000, got '"
                + option
                + "'");
      }
      set(key, option.substring(eq + 1));
    }
    return this;
  }

  /** Sets one Hadoop setting; later calls win. */
  public StoreConfig set(String key, String value) {
    settings.remove(key);
    settings.put(key, value);
    return this;
  }

  /** The settings in the order they apply. */
  public Map<String, String> settings() {
    return Collections.unmodifiableMap(settings);
  }

  /**
   * Sets every setting on {@code conf} (a Spark session's Hadoop configuration, say) and returns
   * it.
   */
  public Configuration applyTo(Configuration conf) {
    settings.forEach(conf::set);
    return conf;
  }

  /** A new Hadoop configuration: defaults and site files, then these settings. */
  public Configuration hadoop() {
    return applyTo(new Configuration());
  }

  /**
   * One message for a failure to reach the store: what fedlake was doing, the store's answer, and
   * for a refused request or a missing bucket a hint at the settings to check.
   */
  public static String describeFailure(java.io.UncheckedIOException failure) {
    String message = failure.getMessage();
    Throwable cause = failure.getCause();
    String answer =
        cause == null || cause.getMessage() == null
            ? null
            : cause.getMessage().lines().findFirst().orElse("");
    if (answer != null && !message.contains(answer)) {
      message = message + ": " + answer;
    }
    for (Throwable t = cause; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof java.nio.file.AccessDeniedException) {
        return message
            + "\n  The store refused access: check the credentials ("
            + ACCESS_KEY_VARIABLE
            + " and "
            + SECRET_KEY_VARIABLE
            + ", or --conf "
            + ACCESS_KEY
            + "=... --conf "
            + SECRET_KEY
            + "=...) and the bucket's"
            + " permissions; see docs/s3.md";
      }
      if (t.getClass().getSimpleName().equals("UnknownStoreException")) {
        return message
            + "\n  The bucket does not exist at the endpoint in use ("
            + ENDPOINT
            + "): create it, or check"
            + " the store URI and the endpoint; see docs/s3.md";
      }
    }
    return message;
  }

  /** The settings with secrets masked, for messages and logs. */
  @Override
  public String toString() {
    Map<String, String> shown = new LinkedHashMap<>();
    settings.forEach(
        (key, value) ->
            shown.put(
                key,
                key.equals(SECRET_KEY)
                        || key.equals(SESSION_TOKEN)
                        || key.endsWith(".secret.key")
                        || key.endsWith(".session.token")
                    ? "****"
                    : value));
    return shown.toString();
  }
}
