package fedlake.encoder;

import java.io.Serializable;
import java.util.List;

/**
 * The images of one class: the files of one folder {@code ROOT/<folder>/}, sorted by name.
 *
 * @param classId class id in the federation
 * @param name class name (the folder name, or the line of the class-names file it matched)
 * @param folder full path or URI of the folder
 * @param files full paths or URIs of its images
 */
public record ClassImages(int classId, String name, String folder, List<String> files)
    implements Serializable {
  public ClassImages {
    files = List.copyOf(files);
  }
}
