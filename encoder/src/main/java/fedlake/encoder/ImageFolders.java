package fedlake.encoder;

import fedlake.core.InvalidInputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Lists a folder of images per class, {@code ROOT/<class>/*.{png,jpg,jpeg}}, on any Hadoop file
 * system (local, s3a, hdfs), and maps the class folders to class ids:
 *
 * <ol>
 *   <li>with a class-names file (one name per line, line {@code i} is class {@code i}): a folder
 *       named like a line (spaces may be written as underscores, case is ignored) gets that line's
 *       id; a folder named by a number {@code i} in range gets id {@code i};
 *   <li>without one: if every folder is named by a non-negative number, that number is the id;
 *       otherwise the folders sorted by name get ids 0, 1, 2, ...
 * </ol>
 *
 * Names starting with {@code .} or {@code _} are skipped, as are files of other types. A class
 * folder without images, a folder no class matches, and two folders for one class are errors.
 */
public final class ImageFolders {
  /** File name extensions read as images (lower case, compared case-insensitively). */
  public static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg");

  private ImageFolders() {}

  /** The classes under {@code root} sorted by class id; {@code classNames} may be null. */
  public static List<ClassImages> list(String root, List<String> classNames, Configuration conf) {
    Path rootPath = path(root);
    List<FileStatus> folders = new ArrayList<>();
    try {
      FileSystem fs = rootPath.getFileSystem(conf);
      if (!fs.exists(rootPath)) {
        throw new InvalidInputException(root, "image folder does not exist");
      }
      if (!fs.getFileStatus(rootPath).isDirectory()) {
        throw new InvalidInputException(
            root, "expected a folder holding one sub-folder of images per class, found a file");
      }
      for (FileStatus child : fs.listStatus(rootPath)) {
        if (child.isDirectory() && visible(child.getPath().getName())) {
          folders.add(child);
        }
      }
      if (folders.isEmpty()) {
        throw new InvalidInputException(
            root, "holds no class folders (expected " + root + "/<class>/*.png|jpg|jpeg)");
      }
      folders.sort(Comparator.comparing(status -> status.getPath().getName()));
      Map<String, Integer> ids = classIds(folders, classNames);
      List<ClassImages> classes = new ArrayList<>();
      Map<Integer, String> seen = new HashMap<>();
      for (FileStatus folder : folders) {
        String name = folder.getPath().getName();
        int id = ids.get(name);
        String previous = seen.put(id, folder.getPath().toString());
        if (previous != null) {
          throw new InvalidInputException(
              folder.getPath().toString(), "is class " + id + ", and so is " + previous);
        }
        List<String> files = new ArrayList<>();
        for (FileStatus file : fs.listStatus(folder.getPath())) {
          if (file.isFile()
              && visible(file.getPath().getName())
              && isImage(file.getPath().getName())) {
            files.add(file.getPath().toString());
          }
        }
        if (files.isEmpty()) {
          throw new InvalidInputException(
              folder.getPath().toString(), "class folder holds no images (.png, .jpg or .jpeg)");
        }
        files.sort(null);
        String className = classNames != null && id < classNames.size() ? classNames.get(id) : name;
        classes.add(new ClassImages(id, className, folder.getPath().toString(), files));
      }
      classes.sort(Comparator.comparingInt(ClassImages::classId));
      return classes;
    } catch (IOException e) {
      throw new InvalidInputException(root, "cannot list image folder: " + e.getMessage(), e);
    }
  }

  /**
   * Reads a class-names file: one class name per line, line i (from 0) naming class i; blank lines
   * are errors.
   */
  public static List<String> readClassNames(String file, Configuration conf) {
    Path path = path(file);
    List<String> names = new ArrayList<>();
    try (InputStream in = path.getFileSystem(conf).open(path);
        BufferedReader reader =
            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        names.add(line.strip());
      }
    } catch (IOException e) {
      throw new InvalidInputException(file, "cannot read class names: " + e.getMessage(), e);
    }
    while (!names.isEmpty() && names.get(names.size() - 1).isEmpty()) {
      names.remove(names.size() - 1);
    }
    if (names.isEmpty()) {
      throw new InvalidInputException(file, "class-names file is empty");
    }
    for (int i = 0; i < names.size(); i++) {
      if (names.get(i).isEmpty()) {
        throw new InvalidInputException(
            file, "line " + (i + 1) + " is blank; every line names one class");
      }
    }
    return names;
  }

  private static Map<String, Integer> classIds(List<FileStatus> folders, List<String> classNames) {
    Map<String, Integer> ids = new HashMap<>();
    if (classNames != null) {
      Map<String, Integer> byKey = new HashMap<>();
      for (int i = classNames.size() - 1; i >= 0; i--) {
        byKey.put(key(classNames.get(i)), i);
      }
      for (FileStatus folder : folders) {
        String name = folder.getPath().getName();
        Integer id = byKey.get(key(name));
        if (id == null) {
          Integer number = number(name);
          if (number != null && number < classNames.size()) {
            id = number;
          }
        }
        if (id == null) {
          throw new InvalidInputException(
              folder.getPath().toString(),
              "folder name '"
                  + name
                  + "' matches none of the "
                  + classNames.size()
                  + " class names and is not a class id in [0, "
                  + classNames.size()
                  + ")");
        }
        ids.put(name, id);
      }
      return ids;
    }
    boolean allNumbers =
        folders.stream().allMatch(folder -> number(folder.getPath().getName()) != null);
    for (int i = 0; i < folders.size(); i++) {
      String name = folders.get(i).getPath().getName();
      ids.put(name, allNumbers ? number(name) : i);
    }
    return ids;
  }

  private static String key(String name) {
    return name.replace('_', ' ').strip().toLowerCase(Locale.ROOT);
  }

  private static Integer number(String name) {
    if (!name.matches("\\d{1,9}")) {
      return null;
    }
    return Integer.parseInt(name);
  }

  private static boolean visible(String name) {
    return !name.startsWith(".") && !name.startsWith("_");
  }

  static boolean isImage(String name) {
    int dot = name.lastIndexOf('.');
    return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  /** A Hadoop path for a local path or a URI. */
  public static Path path(String location) {
    return new Path(
        location.contains("://") || location.startsWith("file:")
            ? location
            : new java.io.File(location).getAbsoluteFile().toURI().toString());
  }
}
