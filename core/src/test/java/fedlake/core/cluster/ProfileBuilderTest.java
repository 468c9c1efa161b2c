package fedlake.core.cluster;

import static fedlake.core.Fixtures.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import fedlake.core.Fixtures;
import fedlake.core.model.FloatArrays;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.SiteProfile;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Profiles of hand-made updates: histogram shares, unit projected directions, features, bad values.
 */
class ProfileBuilderTest {
  private final ProfileBuilder builder = new ProfileBuilder(new RandomProjection(8, 3));

  private static double norm(List<Float> values) {
    double squares = 0;
    for (float v : values) {
      squares += v * v;
    }
    return Math.sqrt(squares);
  }

  @Test
  void profileHoldsSharesAndUnitDirections() {
    Model base = Fixtures.headModel(0, 2, 2, floats(1, 1, 1, 1), floats(0, 0));
    Model origin = Fixtures.zeroModel(2, 2);
    SiteProfile p =
        builder.build(
            Fixtures.update(base, "a", 4, floats(4, 1, 1, 1), floats(0, 0))
                .setLabelHistogram(FloatArrays.asList(new long[] {1, 3}))
                .setClusterChoice(0)
                .build(),
            base,
            origin,
            true,
            0);
    assertEquals(List.of(0.25f, 0.75f), p.getLabelHistogram());
    assertEquals(3.0, p.getUpdateNorm(), 1e-12, "(4,1,1,1,0,0) - (1,1,1,1,0,0) has norm 3");
    assertEquals(1.0, norm(p.getDirection()), 1e-6);
    assertEquals(1.0, norm(p.getPosition()), 1e-6);
    assertEquals(8, p.getDirection().size());
    assertEquals(0, p.getClusterChoice());
    assertNull(p.getEmbeddingMean(), "no statistics reported");
    SiteProfile first =
        builder.build(
            Fixtures.update(origin, "a", 4, floats(4, 1, 1, 1), floats(0, 0)).build(),
            origin,
            origin,
            false,
            0);
    assertEquals(
        List.of(),
        first.getPosition(),
        "trained from the initial model: position would repeat direction");
    // an update along the same line from another base has the same direction
    Model other = Fixtures.headModel(0, 2, 2, floats(0, 1, 1, 1), floats(0, 0));
    SiteProfile q =
        builder.build(
            Fixtures.update(other, "b", 4, floats(7, 1, 1, 1), floats(0, 0)).build(),
            other,
            origin,
            true,
            0);
    assertEquals(p.getDirection(), q.getDirection());
    // the histogram block of the features is sqrt(shares): a unit vector
    double[] v = ProfileFeatures.defaults().withBlocks(true, false, false).vector(p);
    assertEquals(2 + 8 + 8, v.length);
    assertEquals(0.5, v[0], 1e-7);
    assertEquals(Math.sqrt(0.75), v[1], 1e-7);
  }

  @Test
  void reportedStatisticsGiveAnEmbeddingMean() {
    Model base = Fixtures.zeroModel(2, 2);
    ClassStatistics c0 =
        new ClassStatistics(
            0, 3L, FloatArrays.asList(floats(1, 0)), FloatArrays.asList(floats(0, 0)), null);
    ClassStatistics c1 =
        new ClassStatistics(
            1, 1L, FloatArrays.asList(floats(0, 1)), FloatArrays.asList(floats(0, 0)), null);
    SiteProfile p =
        builder.build(
            Fixtures.update(base, "a", 4, floats(1, 0, 0, 0), floats(0, 0))
                .setClassStatistics(List.of(c0, c1))
                .build(),
            base,
            base,
            false,
            0);
    // (3 * (1,0) + 1 * (0,1)) / |.| projected: same as projecting (3,1) normalised
    double[] expected =
        new RandomProjection(8, 3).project(new double[] {3 / Math.sqrt(10), 1 / Math.sqrt(10)});
    RandomProjection.normalise(expected);
    for (int k = 0; k < 8; k++) {
      assertEquals(expected[k], p.getEmbeddingMean().get(k), 1e-6);
    }
  }

  @Test
  void theCentroidOfAFirstUpdateIsTheMeanOfTheSiteData() {
    // four rows of classes 0 and 1 out of 4; one full-batch step of the real trainer from the zero
    // head moves the rows of classes 0 and 1 together by (1 - 2/4) * their sum
    float[] rows = floats(1, 0, 0, 0, 1, 0, 0, 0, 1, 0.6, 0.8, 0);
    fedlake.core.data.Dataset data =
        fedlake.core.data.Dataset.of("site-a", rows, new int[] {0, 0, 1, 1}, 3);
    Model origin = Fixtures.zeroModel(3, 4);
    fedlake.core.model.Head trained =
        fedlake.core.train.LocalTrainer.train(
                fedlake.core.model.Models.head(origin),
                data,
                fedlake.core.train.TrainSettings.defaults(1).withEpochs(1),
                fedlake.core.train.LocalTrainer.Progress.NONE)
            .head();
    fedlake.schema.Update update =
        Fixtures.update(origin, "a", 4, trained.weights(), trained.bias())
            .setLabelHistogram(FloatArrays.asList(new long[] {2, 2, 0, 0}))
            .build();
    SiteProfile p = builder.build(update, origin, origin, false, 0);
    double[] mean = {1.6 / 4, 1.8 / 4, 1.0 / 4};
    RandomProjection.normalise(mean);
    double[] expected = new RandomProjection(8, 3).project(mean);
    RandomProjection.normalise(expected);
    assertEquals(8, p.getCentroid().size());
    for (int k = 0; k < 8; k++) {
      assertEquals(expected[k], p.getCentroid().get(k), 1e-5, "value " + k);
    }

    // trained from a later model, or holding every class: no centroid
    Model later = Fixtures.headModel(0, 3, 4, trained.weights(), trained.bias());
    assertNull(builder.build(update, later, origin, false, 0).getCentroid());
    fedlake.schema.Update everything =
        fedlake.schema.Update.newBuilder(update)
            .setLabelHistogram(FloatArrays.asList(new long[] {1, 1, 1, 1}))
            .build();
    assertNull(builder.build(everything, origin, origin, false, 0).getCentroid());

    // the centroid block of the features: weight 2 by default, only when switched on
    double[] v = ProfileFeatures.defaults().withBlocks(false, false, true).vector(p);
    assertEquals(4 + 8 + 8, v.length);
    assertEquals(2 * p.getCentroid().get(0), v[12], 1e-7);
    assertEquals(
        4 + 8 + 8 + 8,
        ProfileFeatures.parse("1,1,1,1,0").withBlocks(true, true, true).length(4, 8),
        "a zero weight switches the centroid block off");
  }

  @Test
  void nonFiniteOrMisshapenProfilesAreNamed() {
    Model base = Fixtures.zeroModel(2, 2);
    SiteProfile good =
        builder.build(
            Fixtures.update(base, "a", 4, floats(1, 0, 0, 0), floats(0, 0)).build(),
            base,
            base,
            false,
            0);
    assertNull(ProfileFeatures.problem(good, 2, 8));
    List<Float> direction = new java.util.ArrayList<>(good.getDirection());
    direction.set(2, Float.POSITIVE_INFINITY);
    assertEquals(
        "site a: non-finite value Infinity in direction at position 2",
        ProfileFeatures.problem(
            SiteProfile.newBuilder(good).setDirection(direction).build(), 2, 8));
    assertEquals(
        "site a: labelHistogram has 2 values, other profiles have 3",
        ProfileFeatures.problem(good, 3, 8));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ProfileFeatures.parse("1,2"));
    assertEquals(
        "--weights expects four or five numbers"
            + " 'histogram,direction,position,embedding[,centroid]', got '1,2'",
        e.getMessage());
  }
}
