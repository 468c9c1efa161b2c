package fedlake.core.secagg;

import fedlake.core.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The text of a secure-aggregation phase file: a first line {@code fedlake-secagg-v1}, then one
 * {@code name=value} line a field, sorted by name, values without line breaks. The digest a site
 * signs is SHA-256 of that text without the {@code signature} line (the {@code keyId} line is
 * signed), so the same fields always give the same bytes and a changed byte breaks the signature.
 */
public final class PhaseFile {
  static final String MAGIC = "fedlake-secagg-v1";
  static final String SIGNATURE = "signature";
  static final String KEY_ID = "keyId";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,160}");

  /** Largest phase file read, in bytes. */
  public static final int MAX_BYTES = 64 << 20;

  private final SortedMap<String, String> fields;

  public PhaseFile() {
    this.fields = new TreeMap<>();
  }

  private PhaseFile(SortedMap<String, String> fields) {
    this.fields = fields;
  }

  public PhaseFile put(String name, String value) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("bad phase file field name '" + name + "'");
    }
    if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("phase file field " + name + " holds a line break");
    }
    fields.put(name, value);
    return this;
  }

  public PhaseFile put(String name, long value) {
    return put(name, Long.toString(value));
  }

  public Map<String, String> fields() {
    return Collections.unmodifiableMap(fields);
  }

  /** The value of {@code name}, or an error naming {@code source}. */
  public String get(String name, String source) {
    String value = fields.get(name);
    if (value == null) {
      throw new InvalidInputException(source, "lacks the field '" + name + "'");
    }
    return value;
  }

  public String getOrNull(String name) {
    return fields.get(name);
  }

  public long getLong(String name, String source) {
    String value = get(name, source);
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new InvalidInputException(source, "field '" + name + "' is not a number: " + value);
    }
  }

  public byte[] getBytes(String name, String source) {
    String value = get(name, source);
    try {
      return java.util.Base64.getDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(source, "field '" + name + "' is not base64");
    }
  }

  public PhaseFile putBytes(String name, byte[] value) {
    return put(name, java.util.Base64.getEncoder().encodeToString(value));
  }

  /** The text without the signature line: what is signed. */
  private String unsignedText() {
    StringBuilder text = new StringBuilder(MAGIC).append('\n');
    fields.forEach(
        (k, v) -> {
          if (!k.equals(SIGNATURE)) {
            text.append(k).append('=').append(v).append('\n');
          }
        });
    return text.toString();
  }

  /** SHA-256 of the text without the signature line. */
  public byte[] digest() {
    return sha256(unsignedText().getBytes(StandardCharsets.UTF_8));
  }

  public byte[] bytes() {
    String signature = fields.get(SIGNATURE);
    String text = unsignedText();
    if (signature != null) {
      // the signature line goes where its name sorts, like every other field
      SortedMap<String, String> all = new TreeMap<>(fields);
      StringBuilder full = new StringBuilder(MAGIC).append('\n');
      all.forEach((k, v) -> full.append(k).append('=').append(v).append('\n'));
      text = full.toString();
    }
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** Parses the bytes of a phase file; {@code source} names it in errors. */
  public static PhaseFile parse(byte[] bytes, String source) {
    String text = new String(bytes, StandardCharsets.UTF_8);
    String[] lines = text.split("\n", -1);
    if (lines.length < 2 || !lines[0].equals(MAGIC) || !lines[lines.length - 1].isEmpty()) {
      throw new InvalidInputException(
          source, "is not a secure-aggregation phase file (no '" + MAGIC + "' header)");
    }
    SortedMap<String, String> fields = new TreeMap<>();
    String previous = null;
    for (int i = 1; i < lines.length - 1; i++) {
      int eq = lines[i].indexOf('=');
      String name = eq < 0 ? lines[i] : lines[i].substring(0, eq);
      if (eq < 0 || !NAME.matcher(name).matches()) {
        throw new InvalidInputException(source, "line " + (i + 1) + " is not name=value");
      }
      if (previous != null && previous.compareTo(name) >= 0) {
        throw new InvalidInputException(
            source, "line " + (i + 1) + ": fields are not sorted or repeat '" + name + "'");
      }
      previous = name;
      fields.put(name, lines[i].substring(eq + 1));
    }
    return new PhaseFile(fields);
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JRE", e);
    }
  }

  /** Hex SHA-256 of {@code bytes}: how rosters pin the files they list. */
  public static String hash(byte[] bytes) {
    return HexFormat.of().formatHex(sha256(bytes));
  }
}
