package fedlake.core;

/**
 * Bad input that a user can fix: a file that cannot be read, has the wrong shape or holds values
 * fedlake refuses. The message always names the file and the reason.
 */
public class InvalidInputException extends IllegalArgumentException {
  private final String file;
  private final String reason;

  public InvalidInputException(String file, String reason) {
    this(file, reason, null);
  }

  public InvalidInputException(String file, String reason, Throwable cause) {
    super(file + ": " + reason, cause);
    this.file = file;
    this.reason = reason;
  }

  /** The file (path or URI) that was being read. */
  public String file() {
    return file;
  }

  /** Why the file was refused, without the file name. */
  public String reason() {
    return reason;
  }
}
