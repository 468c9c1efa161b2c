package fedlake.core.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.InvalidInputException;
import fedlake.core.strategy.RobustSettings;
import fedlake.schema.FederationSpec;
import fedlake.schema.ModelKind;
import org.junit.jupiter.api.Test;

/** The robust aggregation fields of the spec: older spec files read with their defaults. */
class RobustSpecTest {
  @Test
  void aSpecWrittenBeforeTheRobustFieldsReadsAsPlainAggregation() {
    String json = Specs.toJson(Specs.defaults(ModelKind.HEAD, 4, 2, 1, "zeros").build());
    String older =
        json.replaceAll("(?s),\\s*\"aggregation\".*?\"weightMedianMultiple\"\\s*:\\s*[0-9.]+", "");
    assertTrue(!older.contains("aggregation") && older.contains("maxUpdateBytes"), older);
    FederationSpec spec = Specs.parse(older, "spec-000001.json");
    assertEquals("mean", spec.getRobustness().getAggregation().toString());
    assertEquals(0.2, spec.getRobustness().getAttackerFraction());
    assertTrue(RobustSettings.of(spec.getRobustness()).none());
  }

  @Test
  void anUnknownRuleIsRefusedWithItsName() {
    FederationSpec spec = Specs.defaults(ModelKind.HEAD, 4, 2, 1, "zeros").build();
    spec.getRobustness().setAggregation("average");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Specs.check(spec));
    assertEquals(
        "unknown robust aggregation 'average' (known: mean, median, trimmed-mean, krum, multi-krum)",
        e.getMessage());
    assertThrows(InvalidInputException.class, () -> Specs.parse(Specs.toJson(spec), "x.json"));
  }
}
