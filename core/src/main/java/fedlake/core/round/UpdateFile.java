package fedlake.core.round;

import java.io.Serializable;

/** An update file found in a round's folder, with its size from the listing. */
public record UpdateFile(String uri, long bytes) implements Serializable {
  /**
   * The site the file name gives ({@code SITE--ID.parquet}, as the edge runner names uploads), or
   * null for a name of another form.
   */
  public String siteFromName() {
    String name = uri.substring(uri.lastIndexOf('/') + 1);
    int separator = name.indexOf("--");
    return separator > 0 ? name.substring(0, separator) : null;
  }
}
