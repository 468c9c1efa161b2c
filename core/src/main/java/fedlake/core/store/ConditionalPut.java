package fedlake.core.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.UUID;
import java.util.WeakHashMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Create-if-absent on S3: one PutObject with {@code If-None-Match: *} through S3A's own client
 * (same credentials, endpoint and path style). The server refuses it with HTTP 412 when the key
 * exists, so of two writers exactly one creates the object. Servers that ignore the header would
 * replace the object instead: {@link #honoured} finds out once per file system.
 */
final class ConditionalPut {
  private static final Logger LOG = LoggerFactory.getLogger(ConditionalPut.class);

  /** Attempts of a put that meets HTTP 409 (a concurrent conditional write is in flight). */
  static final int CONFLICT_ATTEMPTS = 5;

  private static final long FIRST_BACK_OFF_MILLIS = 50;

  /** Whether the server of a file system honours the condition, once known. */
  private static final Map<FileSystem, Boolean> HONOURED =
      Collections.synchronizedMap(new WeakHashMap<>());

  private final S3AFileSystem fs;

  private ConditionalPut(S3AFileSystem fs) {
    this.fs = fs;
  }

  /** Conditional puts on {@code fs}, or null when it is not S3A. */
  static ConditionalPut of(FileSystem fs) {
    return fs instanceof S3AFileSystem s3a ? new ConditionalPut(s3a) : null;
  }

  /**
   * Uploads the local {@code file} to {@code target} unless an object exists there: true when this
   * call created it, false when the server said it exists (HTTP 412).
   */
  boolean put(Path target, java.io.File file) throws IOException {
    return put(target, RequestBody.fromFile(file));
  }

  private boolean put(Path target, RequestBody body) throws IOException {
    S3Client s3 = client();
    PutObjectRequest request =
        PutObjectRequest.builder()
            .bucket(fs.getBucket())
            .key(key(target))
            .overrideConfiguration(o -> o.putHeader("If-None-Match", "*"))
            .build();
    for (int attempt = 1; ; attempt++) {
      try {
        s3.putObject(request, body);
        return true;
      } catch (S3Exception e) {
        if (e.statusCode() == 412) {
          return false;
        }
        if (e.statusCode() != 409) {
          throw new IOException("Cannot create " + target + ": " + reason(e), e);
        }
        if (attempt == CONFLICT_ATTEMPTS) {
          throw new IOException(
              "Cannot create "
                  + target
                  + ": the S3 server answered "
                  + attempt
                  + " times that a concurrent conditional write is in flight (HTTP 409)",
              e);
        }
        backOff(attempt, target);
      } catch (SdkException e) {
        throw new IOException("Cannot create " + target + ": " + reason(e), e);
      }
    }
  }

  private S3Client client() {
    return fs.getS3AInternals().getAmazonS3Client("fedlake create-if-absent");
  }

  private String key(Path path) {
    return fs.pathToKey(fs.makeQualified(path));
  }

  private static void backOff(int attempt, Path target) throws IOException {
    try {
      Thread.sleep(FIRST_BACK_OFF_MILLIS << (attempt - 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("Interrupted while creating " + target);
    }
  }

  private static String reason(SdkException e) {
    return e instanceof S3Exception s3 && s3.awsErrorDetails() != null
        ? s3.awsErrorDetails().errorMessage() + " (HTTP " + s3.statusCode() + ")"
        : e.getMessage();
  }

  /**
   * Whether this file system's server honours {@code If-None-Match: *}, probed on the first call
   * and remembered: a probe object {@code _probe-conditional-put-UUID} in {@code folder} (where the
   * caller is about to write, so it may write there), put twice, must be refused the second time;
   * then it is deleted. A server that ignores the condition is logged once as a warning.
   */
  boolean honoured(Path folder) throws IOException {
    synchronized (HONOURED) {
      Boolean known = HONOURED.get(fs);
      if (known == null) {
        known = probe(folder);
        HONOURED.put(fs, known);
        if (!known) {
          LOG.warn(
              "The S3 server of {} ignores conditional writes (If-None-Match: *): fedlake creates"
                  + " files there with a check and then an upload, so two round jobs racing could"
                  + " both publish; see docs/storage.md",
              fs.getUri());
        }
      }
      return known;
    }
  }

  private boolean probe(Path folder) throws IOException {
    Path probe = new Path(folder, "_probe-conditional-put-" + UUID.randomUUID());
    byte[] bytes = "fedlake conditional-put probe\n".getBytes(StandardCharsets.UTF_8);
    try {
      if (!put(probe, RequestBody.fromBytes(bytes))) {
        throw new IOException("the new object " + probe + " exists already");
      }
      return !put(probe, RequestBody.fromBytes(bytes));
    } catch (IOException e) {
      throw new IOException(
          "cannot probe whether the S3 server honours conditional writes: " + e.getMessage(), e);
    } finally {
      try { // S3A's delete would leave a marker for the folder behind
        client().deleteObject(d -> d.bucket(fs.getBucket()).key(key(probe)));
      } catch (SdkException e) {
        LOG.warn("Cannot delete the probe object {}: {}", probe, e.getMessage());
      }
    }
  }
}
