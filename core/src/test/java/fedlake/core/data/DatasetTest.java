package fedlake.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.InvalidInputException;
import org.junit.jupiter.api.Test;

class DatasetTest {
  @Test
  void normalisesEveryRowToUnitLength() {
    Dataset data =
        Dataset.of("mem", new float[] {3, 4, 0, -2, 0, 0, 1, 1, 1}, new int[] {0, 1, 2}, 3);
    assertEquals(3, data.size());
    assertEquals(3, data.dimension());
    assertArrayEquals(
        new float[] {0.6f, 0.8f, 0f, -1f, 0f, 0f},
        java.util.Arrays.copyOf(data.features(), 6),
        1e-7f);
    float third = (float) (1 / Math.sqrt(3));
    assertArrayEquals(
        new float[] {third, third, third},
        java.util.Arrays.copyOfRange(data.features(), 6, 9),
        1e-7f);
    assertEquals(3, data.classBound());
    assertArrayEquals(new long[] {1, 1, 1, 0}, data.labelHistogram(4));
  }

  @Test
  void doesNotModifyTheCallersArrays() {
    float[] features = {3, 4};
    int[] labels = {1};
    Dataset data = Dataset.of("mem", features, labels, 2);
    assertArrayEquals(new float[] {3, 4}, features, 0f);
    labels[0] = 5;
    assertEquals(1, data.label(0));
  }

  @Test
  void rejectsNaN() {
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () ->
                Dataset.of(
                    "site.npy", new float[] {1, 0, 0, 1, Float.NaN, 0}, new int[] {0, 1}, 3));
    assertEquals("site.npy: row 1 has a non-finite value (NaN) at position 1", e.getMessage());
    assertEquals("site.npy", e.file());
  }

  @Test
  void rejectsInfinity() {
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () ->
                Dataset.of("site.npy", new float[] {Float.POSITIVE_INFINITY, 0}, new int[] {0}, 2));
    assertEquals("site.npy: row 0 has a non-finite value (Infinity) at position 0", e.getMessage());
  }

  @Test
  void rejectsAllZeroRow() {
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> Dataset.of("site.npy", new float[] {1, 2, 0, 0, 5, 6}, new int[] {0, 0, 1}, 2));
    assertEquals("site.npy: row 1 is all zeros and cannot be normalised", e.getMessage());
  }

  @Test
  void rejectsNegativeLabel() {
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> Dataset.of("site.npy", new float[] {1, 0, 0, 1}, new int[] {0, -2}, 2));
    assertEquals("site.npy: row 1 has a negative label -2", e.getMessage());
  }

  @Test
  void rejectsMismatchedRowAndLabelCounts() {
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> Dataset.of("site.npy", new float[] {1, 0, 0, 1, 1, 1}, new int[] {0, 1}, 2));
    assertEquals("site.npy: embeddings have 3 rows but there are 2 labels", e.getMessage());
  }

  @Test
  void trainingNeedsLabelsBelowTheClassCount() {
    Dataset data =
        Dataset.of(
            "site.npy", new float[] {1, 0, 0, 1, 1, 1}, new int[] {0, 4, Dataset.UNLABELLED}, 2);
    InvalidInputException tooBig =
        assertThrows(InvalidInputException.class, () -> data.requireLabelsBelow(3));
    assertEquals(
        "site.npy: row 1 has label 4 but the model has 3 classes (0..2)", tooBig.getMessage());
    Dataset unlabelled = data.select(new int[] {2});
    InvalidInputException none =
        assertThrows(InvalidInputException.class, () -> unlabelled.requireLabelsBelow(3));
    assertEquals(
        "site.npy: row 0 has no label; local training needs labelled rows", none.getMessage());
  }

  @Test
  void selectKeepsTheGivenRowsInOrder() {
    Dataset data = Dataset.of("mem", new float[] {1, 0, 0, 1, -1, 0}, new int[] {0, 1, 2}, 2);
    Dataset picked = data.select(new int[] {2, 0});
    assertArrayEquals(new int[] {2, 0}, picked.labels());
    assertArrayEquals(new float[] {-1, 0, 1, 0}, picked.features(), 0f);
  }
}
