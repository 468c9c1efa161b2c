package fedlake.core.privacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Known answers of the sampled Gaussian mechanism's RDP and its (ε, δ) conversion: the published
 * test values of TensorFlow Privacy's RDP accountant (tensorflow/privacy, rdp_accountant_test.py),
 * and the closed form without sampling.
 */
class RdpAccountantTest {
  @Test
  void withoutSamplingTheRdpIsAlphaOverTwoSigmaSquared() {
    // compute_rdp(q=1, sigma=10, steps=1, order=20) = 0.1
    assertEquals(0.1, RdpAccountant.sampledGaussian(1, 10, 1).rdp(20), 1e-15);
    assertEquals(0.0, RdpAccountant.sampledGaussian(0, 10, 1).rdp(20));
  }

  @Test
  void publishedRdpValuesOfTheSampledGaussian() {
    // compute_rdp(0.1, 2, 10, 5) = 0.07737 (5 places)
    assertEquals(0.07737, RdpAccountant.sampledGaussian(0.1, 2, 10).rdp(5), 5e-6);
    // compute_rdp(0.01, 2.5, 50, [..., 5, 50, 100]) = 0.00218075, 0.023846, 167.416307 (1e-5)
    RdpAccountant a = RdpAccountant.sampledGaussian(0.01, 2.5, 50);
    assertEquals(0.00218075, a.rdp(5), 1e-5);
    assertEquals(0.023846, a.rdp(50), 1e-5);
    assertEquals(167.416307, a.rdp(100), 1e-5);
  }

  @Test
  void publishedEpsilonOfTenThousandSteps() {
    // q = 0.01, sigma = 4, 10,000 steps, orders 2..32, delta 1e-5: eps 1.258575 at order 20
    // (classic conversion); more orders cannot make it larger, the tighter conversion smaller
    RdpAccountant a = RdpAccountant.sampledGaussian(0.01, 4, 10_000);
    RdpAccountant.Epsilon classic = a.classicEpsilon(1e-5);
    assertEquals(1.258575, classic.epsilon(), 1e-6);
    assertEquals(20, classic.order());
    RdpAccountant.Epsilon tight = a.epsilon(1e-5);
    assertTrue(tight.epsilon() < classic.epsilon(), tight + " vs " + classic);
    assertTrue(tight.epsilon() > 0.9, "the tighter conversion gains little here: " + tight);
  }

  @Test
  void roundsComposeByAddingRdp() {
    RdpAccountant ten = RdpAccountant.sampledGaussian(0.1, 1.2, 10);
    RdpAccountant five = RdpAccountant.sampledGaussian(0.1, 1.2, 5);
    RdpAccountant composed = five.plus(five);
    for (int alpha = 2; alpha <= 256; alpha *= 2) {
      assertEquals(ten.rdp(alpha), composed.rdp(alpha), 1e-12 * ten.rdp(alpha));
    }
    double previous = 0;
    RdpAccountant running = RdpAccountant.none();
    for (int round = 1; round <= 20; round++) {
      running = running.plus(RdpAccountant.sampledGaussian(0.1, 1.2, 1));
      double eps = running.epsilon(1e-5).epsilon();
      assertTrue(eps > previous, "epsilon rises round by round: " + eps + " after " + previous);
      previous = eps;
    }
  }

  @Test
  void badArgumentsAreRefusedWithTheirValue() {
    assertEquals(
        "sampling rate must be in [0, 1], got 1.5",
        assertThrows(IllegalArgumentException.class, () -> RdpAccountant.sampledGaussian(1.5, 1, 1))
            .getMessage());
    assertEquals(
        "noise multiplier must be positive, got 0.0",
        assertThrows(IllegalArgumentException.class, () -> RdpAccountant.sampledGaussian(0.1, 0, 1))
            .getMessage());
    assertEquals(
        "delta must be in (0, 1), got 0.0",
        assertThrows(IllegalArgumentException.class, () -> RdpAccountant.none().epsilon(0))
            .getMessage());
  }
}
