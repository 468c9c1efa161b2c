package fedlake.encoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFoldersTest {
  private final Configuration conf = new Configuration();

  private static void images(Path folder, String... names) throws IOException {
    Files.createDirectories(folder);
    for (String name : names) {
      Files.writeString(folder.resolve(name), "pixels");
    }
  }

  private static String uri(Path path) {
    return "file:" + path.toAbsolutePath();
  }

  @Test
  void sortedFolderNamesGiveIdsAndOnlyImagesAreListed(@TempDir Path root) throws IOException {
    images(root.resolve("zebra"), "b.JPG", "a.png", "notes.txt", ".hidden.png");
    images(root.resolve("ant"), "x.jpeg");
    images(root.resolve("_skipped"), "y.png");
    List<ClassImages> classes = ImageFolders.list(root.toString(), null, conf);
    assertEquals(2, classes.size());
    assertEquals(
        new ClassImages(
            0, "ant", uri(root.resolve("ant")), List.of(uri(root.resolve("ant/x.jpeg")))),
        classes.get(0));
    assertEquals(
        new ClassImages(
            1,
            "zebra",
            uri(root.resolve("zebra")),
            List.of(uri(root.resolve("zebra/a.png")), uri(root.resolve("zebra/b.JPG")))),
        classes.get(1));
  }

  @Test
  void numberedFoldersKeepTheirNumbers(@TempDir Path root) throws IOException {
    images(root.resolve("7"), "a.png");
    images(root.resolve("2"), "a.png");
    List<ClassImages> classes = ImageFolders.list(root.toString(), null, conf);
    assertEquals(List.of(2, 7), classes.stream().map(ClassImages::classId).toList());
  }

  @Test
  void classNamesFileMapsNamesUnderscoresAndNumbers(@TempDir Path root) throws IOException {
    Path names =
        Files.writeString(
            root.resolve("classnames.txt"), "tench\ngolden retriever\ngreat white shark\n\n");
    Path images = root.resolve("images");
    images(images.resolve("Golden_Retriever"), "a.png");
    images(images.resolve("0"), "a.png");
    List<String> classNames = ImageFolders.readClassNames(names.toString(), conf);
    assertEquals(List.of("tench", "golden retriever", "great white shark"), classNames);
    List<ClassImages> classes = ImageFolders.list(images.toString(), classNames, conf);
    assertEquals(List.of(0, 1), classes.stream().map(ClassImages::classId).toList());
    assertEquals(
        List.of("tench", "golden retriever"), classes.stream().map(ClassImages::name).toList());

    images(images.resolve("goldfish"), "a.png");
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> ImageFolders.list(images.toString(), classNames, conf));
    assertEquals(
        uri(images.resolve("goldfish"))
            + ": folder name 'goldfish' matches none of the 3 class names and is not a class id in [0, 3)",
        e.getMessage());
  }

  @Test
  void twoFoldersForOneClassAreRefused(@TempDir Path root) throws IOException {
    images(root.resolve("1"), "a.png");
    images(root.resolve("tench"), "a.png");
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> ImageFolders.list(root.toString(), List.of("x", "tench"), conf));
    assertEquals(
        uri(root.resolve("tench")) + ": is class 1, and so is " + uri(root.resolve("1")),
        e.getMessage());
  }

  @Test
  void emptyClassFolderAndEmptyRootAreNamed(@TempDir Path root) throws IOException {
    images(root.resolve("cats"), "a.png");
    images(root.resolve("dogs"), "readme.txt");
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class, () -> ImageFolders.list(root.toString(), null, conf));
    assertEquals(
        uri(root.resolve("dogs")) + ": class folder holds no images (.png, .jpg or .jpeg)",
        e.getMessage());

    Path empty = Files.createDirectories(root.resolve("empty"));
    e =
        assertThrows(
            InvalidInputException.class, () -> ImageFolders.list(empty.toString(), null, conf));
    assertEquals(
        empty + ": holds no class folders (expected " + empty + "/<class>/*.png|jpg|jpeg)",
        e.getMessage());

    String missing = root.resolve("missing").toString();
    e = assertThrows(InvalidInputException.class, () -> ImageFolders.list(missing, null, conf));
    assertEquals(missing + ": image folder does not exist", e.getMessage());
  }

  @Test
  void balancedSampleHasExactlyMPerClassAndCyclesSmallClasses() {
    ClassImages small =
        new ClassImages(3, "small", "/d/small", List.of("/d/small/a.png", "/d/small/b.png"));
    ClassImages large =
        new ClassImages(
            5,
            "large",
            "/d/large",
            List.of(
                "/d/large/1.png",
                "/d/large/2.png",
                "/d/large/3.png",
                "/d/large/4.png",
                "/d/large/5.png",
                "/d/large/6.png",
                "/d/large/7.png",
                "/d/large/8.png",
                "/d/large/9.png"));
    List<BalancedSample.Pick> picks = BalancedSample.perClass(List.of(small, large), 5, 11);
    assertEquals(10, picks.size());
    Map<String, Integer> uses = new HashMap<>();
    Set<String> ids = new HashSet<>();
    for (BalancedSample.Pick pick : picks.subList(0, 5)) {
      assertEquals(3, pick.classId());
      uses.merge(pick.file(), 1, Integer::sum);
      ids.add(pick.id());
    }
    // 5 rows from 2 files: one file 3 times, the other twice; ids stay unique
    assertEquals(Set.of(2, 3), new HashSet<>(uses.values()));
    assertEquals(5, ids.size());
    Set<String> largeFiles = new HashSet<>();
    for (BalancedSample.Pick pick : picks.subList(5, 10)) {
      assertEquals(5, pick.classId());
      assertEquals(0, pick.copy());
      largeFiles.add(pick.file());
    }
    assertEquals(5, largeFiles.size());

    assertEquals(picks, BalancedSample.perClass(List.of(small, large), 5, 11));
    assertEquals(false, picks.equals(BalancedSample.perClass(List.of(small, large), 5, 12)));
    assertEquals("small/a.png#2", new BalancedSample.Pick(3, "/d/small/a.png", 2).id());
  }
}
