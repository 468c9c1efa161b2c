package fedlake.core.privacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The PLD accountant against exact answers and against the RDP accountant. */
class PldAccountantTest {
  @Test
  void aComposedGaussianErsOnTheSafeSideOfTheExactAnswer() {
    // 100 rounds of the Gaussian mechanism without sampling, z 10: a Gaussian of mu = sqrt(100) /
    // 10
    // = 1, whose exact epsilon at delta 1e-5 is 4.37718 (Balle and Wang 2018: delta(eps) =
    // Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2))
    double epsilon = PldAccountant.epsilon(1, 10, 100, 1e-5);
    assertTrue(epsilon >= 4.3771 && epsilon < 4.3771 + 0.15, "epsilon " + epsilon);
  }

  @Test
  void theSampledGaussianIsTighterThanRdp() {
    double pld = PldAccountant.epsilon(0.1, 1, 100, 1e-5);
    double rdp = RdpAccountant.sampledGaussian(0.1, 1, 100).epsilon(1e-5).epsilon();
    assertEquals(7.97, rdp, 0.01);
    assertEquals(7.15, pld, 0.05, "an independent numpy PLD of the same mechanism gives 7.147");
    assertTrue(
        PldAccountant.epsilon(0.1, 0.95, 100, 1e-5) < 8, "z 0.95 for 100 rounds stays within 8");
    assertTrue(PldAccountant.epsilon(0.1, 1, 50, 1e-5) < pld, "fewer rounds spend less");
  }

  @Test
  void theNormalCdfIsAccurate() {
    assertEquals(0.5, PldAccountant.normalCdf(0), 1e-7);
    assertEquals(0.8413447460685429, PldAccountant.normalCdf(1), 1e-7);
    assertEquals(2.866515718791939e-7, PldAccountant.normalCdf(-5), 2.87e-7 * 1.2e-7 * 10);
  }

  @Test
  void settingsOutsideItsRangeAreRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> PldAccountant.epsilon(0.1, 1, 301, 1e-5));
    assertEquals(
        "PLD accounting needs q in (0, 1], z > 0, 1 to 300 rounds and delta > 0; got q 0.1, z 1.0,"
            + " 301 rounds, delta 1.0E-5",
        e.getMessage());
  }
}
