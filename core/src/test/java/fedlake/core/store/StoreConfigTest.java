package fedlake.core.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.cli.Args;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

class StoreConfigTest {
  @Test
  void environmentVariablesBecomeS3aSettings() {
    StoreConfig config =
        StoreConfig.fromEnvironment(
            Map.of(
                "AWS_ACCESS_KEY_ID", "AKIDEXAMPLE",
                "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI",
                "AWS_SESSION_TOKEN", "token-1",
                "AWS_REGION", "eu-west-1",
                "AWS_DEFAULT_REGION", "us-west-2",
                "FEDLAKE_S3_ENDPOINT", "http://127.0.0.1:9000",
                "AWS_ENDPOINT_URL", "https://ignored.example.com",
                "HOME", "/root"));
    assertEquals(
        Map.of(
            "fs.s3a.access.key", "AKIDEXAMPLE",
            "fs.s3a.secret.key", "wJalrXUtnFEMI",
            "fs.s3a.session.token", "token-1",
            "fs.s3a.endpoint.region", "eu-west-1",
            "fs.s3a.endpoint", "http://127.0.0.1:9000",
            "fs.s3a.path.style.access", "true",
            "fs.s3a.connection.ssl.enabled", "false"),
        config.settings());
    assertEquals(
        "{fs.s3a.access.key=AKIDEXAMPLE, fs.s3a.secret.key=****, fs.s3a.session.token=****, "
            + "fs.s3a.endpoint.region=eu-west-1, fs.s3a.endpoint=http://127.0.0.1:9000, fs.s3a.path.style.access=true, "
            + "fs.s3a.connection.ssl.enabled=false}",
        config.toString());
  }

  @Test
  void awsEndpointsKeepVirtualHostedAccessAndTls() {
    StoreConfig config =
        StoreConfig.fromEnvironment(
            Map.of(
                "AWS_ENDPOINT_URL",
                "https://s3.eu-central-1.amazonaws.com",
                "AWS_DEFAULT_REGION",
                "eu-central-1"));
    assertEquals(
        Map.of(
            "fs.s3a.endpoint",
            "https://s3.eu-central-1.amazonaws.com",
            "fs.s3a.endpoint.region",
            "eu-central-1"),
        config.settings());
    assertEquals(
        Map.of(),
        StoreConfig.fromEnvironment(Map.of("AWS_ACCESS_KEY_ID", " ", "AWS_SECRET_ACCESS_KEY", ""))
            .settings());
  }

  @Test
  void halfACredentialPairIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StoreConfig.fromEnvironment(Map.of("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")));
    assertEquals(
        "Cannot configure the store: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
            + " (set both, or neither to use another credential source)",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StoreConfig.fromEnvironment(Map.of("FEDLAKE_S3_ENDPOINT", "http://")));
    assertEquals(
        "Cannot configure the store: FEDLAKE_S3_ENDPOINT 'http://' is not an endpoint URL such as"
            + " http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com",
        e.getMessage());
  }

  @Test
  void confOptionsOverrideTheEnvironmentInCommandLineOrder() {
    Args args =
        new Args(
            "edge train",
            new String[] {
              "--store",
              "s3a://bucket/fed",
              "--conf",
              "fs.s3a.path.style.access=false",
              "--conf=spark.hadoop.fs.s3a.endpoint=http://minio:9000",
              "--conf",
              "fs.s3a.endpoint=http://minio:9001",
              "--conf",
              "fs.s3a.secret.key=with=equals"
            },
            Set.of("store", StoreConfig.OPTION),
            Set.of());
    assertEquals(
        List.of(
            "fs.s3a.path.style.access=false",
            "spark.hadoop.fs.s3a.endpoint=http://minio:9000",
            "fs.s3a.endpoint=http://minio:9001",
            "fs.s3a.secret.key=with=equals"),
        args.all(StoreConfig.OPTION));
    assertEquals(List.of(), args.all("other"));
    Configuration conf =
        StoreConfig.fromEnvironment(Map.of("FEDLAKE_S3_ENDPOINT", "http://127.0.0.1:9000"))
            .options(args.all(StoreConfig.OPTION))
            .applyTo(new Configuration(false));
    assertEquals("http://minio:9001", conf.get("fs.s3a.endpoint"));
    assertEquals("false", conf.get("fs.s3a.path.style.access"));
    assertEquals("false", conf.get("fs.s3a.connection.ssl.enabled"));
    assertEquals("with=equals", conf.get("fs.s3a.secret.key"));
    assertNull(conf.get("spark.hadoop.fs.s3a.endpoint"));
  }

  @Test
  void malformedConfOptionIsRefusedWithAnExample() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StoreConfig.empty().options(List.of("fs.s3a.endpoint")));
    assertEquals(
        "option --conf expects KEY=VALUE with a Hadoop setting name, e.g. --conf fs.s3a.endpoint=http://127.0.0.1:9000,"
            + " got 'fs.s3a.endpoint'",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> StoreConfig.empty().options(List.of("=value")));
    assertEquals(
        "option --conf expects KEY=VALUE with a Hadoop setting name, e.g. --conf fs.s3a.endpoint=http://127.0.0.1:9000,"
            + " got '=value'",
        e.getMessage());
  }

  @Test
  void storeFailuresNameTheOperationTheAnswerAndWhatToCheck() {
    UncheckedIOException denied =
        new UncheckedIOException(
            "Cannot read model pointer s3a://b/fed/models/_LATEST",
            new AccessDeniedException("s3a://b/fed/models/_LATEST: getFileStatus: 403 Forbidden"));
    assertEquals(
        "Cannot read model pointer s3a://b/fed/models/_LATEST: s3a://b/fed/models/_LATEST: getFileStatus: 403 Forbidden\n"
            + "  The store refused access: check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or --conf"
            + " fs.s3a.access.key=... --conf fs.s3a.secret.key=...) and the bucket's permissions; see docs/s3.md",
        StoreConfig.describeFailure(denied));
    IOException missing = new FileNotFoundException("no such file");
    UncheckedIOException upload =
        new UncheckedIOException(
            "Site a cannot upload its update to s3a://b/fed: no such file", missing);
    assertEquals(
        "Site a cannot upload its update to s3a://b/fed: no such file",
        StoreConfig.describeFailure(upload));
    assertFalse(StoreConfig.describeFailure(upload).contains("\n"));
  }
}
