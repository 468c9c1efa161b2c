package fedlake.core.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.InvalidInputException;
import fedlake.schema.FederationSpec;
import org.junit.jupiter.api.Test;

/** Spec files written before a field existed stay readable: the field takes its default. */
class SpecDefaultsTest {
  /** A spec file as fedlake wrote it before the round deadline (and other defaulted fields). */
  private static final String BEFORE_THE_DEADLINE =
      """
      {
        "specVersion" : 1,
        "createdTime" : 1795804595128,
        "change" : "init --store /tmp/f --dim 4 --classes 3 --min-sites 2",
        "model" : { "kind" : "HEAD", "dimension" : 4, "classCount" : 3, "initialization" : "zeros" },
        "strategy" : { "name" : "fedavg" },
        "client" : { "algorithm" : "SGD", "epochs" : 5, "batchSize" : 16, "learningRate" : 0.3 },
        "robustness" : { },
        "privacy" : null,
        "roundPolicy" : { "minSites" : 2 }
      }
      """;

  @Test
  void missingFieldsTakeTheirSchemaDefaults() {
    FederationSpec spec = Specs.parse(BEFORE_THE_DEADLINE, "old.json");
    assertEquals(2, spec.getRoundPolicy().getMinSites());
    assertEquals(0L, spec.getRoundPolicy().getDeadlineSeconds());
    assertEquals(1, spec.getModel().getClusters());
    assertEquals(0.0, spec.getClient().getMomentum());
    assertEquals(10000.0, spec.getRobustness().getMaxAbsValue());
    assertEquals(268435456L, spec.getRobustness().getMaxUpdateBytes());
    assertTrue(spec.getStrategy().getParameters().isEmpty());
    assertNull(spec.getPrivacy());
  }

  @Test
  void aWrittenSpecReadsBackTheSameAndANonNullUnionKeepsItsBranch() {
    FederationSpec spec = Specs.parse(BEFORE_THE_DEADLINE, "old.json");
    spec.setPrivacy(fedlake.schema.PrivacySpec.newBuilder().build());
    spec.getRoundPolicy().setDeadlineSeconds(3600);
    FederationSpec again = Specs.parse(Specs.toJson(spec), "new.json");
    assertEquals(spec, again);
    assertEquals("none", again.getPrivacy().getMechanism());
  }

  @Test
  void requiredFieldsStillHaveToBeThere() {
    InvalidInputException missing =
        assertThrows(
            InvalidInputException.class,
            () -> Specs.parse(BEFORE_THE_DEADLINE.replace("\"epochs\" : 5, ", ""), "bad.json"));
    assertTrue(
        missing.getMessage().startsWith("bad.json: is not a valid federation spec: "),
        missing.getMessage());
  }
}
