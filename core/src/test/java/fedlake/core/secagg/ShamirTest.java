package fedlake.core.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ShamirTest {
  private static BigInteger b(long v) {
    return BigInteger.valueOf(v);
  }

  @Test
  void knownPolynomialGivesKnownSharesAndBack() {
    // f(x) = 1234 + 166 x + 94 x^2: f(1) = 1494, f(2) = 1942, f(3) = 2578, f(4) = 3402
    BigInteger[] f = {b(1234), b(166), b(94)};
    assertEquals(b(1494), Shamir.evaluate(f, 1));
    assertEquals(b(1942), Shamir.evaluate(f, 2));
    assertEquals(b(2578), Shamir.evaluate(f, 3));
    assertEquals(b(3402), Shamir.evaluate(f, 4));
    assertEquals(b(1234), Shamir.combine(Map.of(1, b(1494), 2, b(1942), 3, b(2578)), 3));
    assertEquals(b(1234), Shamir.combine(Map.of(2, b(1942), 3, b(2578), 4, b(3402)), 3));
    // four shares: the fourth is checked against the polynomial of the first three
    assertEquals(
        b(1234), Shamir.combine(Map.of(1, b(1494), 2, b(1942), 3, b(2578), 4, b(3402)), 3));
  }

  @Test
  void fewerThanThresholdSharesDoNotGiveTheSecret() {
    // two of the shares above fit the line through (1, 1494), (2, 1942), which meets 0 at 1046
    assertEquals(b(1046), Shamir.combine(Map.of(1, b(1494), 2, b(1942)), 2));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Shamir.combine(Map.of(1, b(1494), 2, b(1942)), 3));
    assertEquals("needs 3 shares to reconstruct, got 2", e.getMessage());
  }

  @Test
  void aCorruptedShareBeyondTheThresholdIsNamed() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Shamir.combine(Map.of(1, b(1494), 2, b(1942), 3, b(2578), 4, b(3403)), 3));
    assertEquals(
        "the shares are inconsistent: share 4 does not lie on the polynomial through shares 1, 2, 3"
            + " (one of them was corrupted)",
        e.getMessage());
  }

  @Test
  void anyThresholdSubsetOfRandomSharesRebuilds32ByteSecret() {
    Random random = new Random(7);
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    Map<Integer, BigInteger> shares = Shamir.split(new BigInteger(1, secret), 4, 7, random);
    assertEquals(7, shares.size());
    for (List<Integer> subset :
        List.of(
            List.of(1, 2, 3, 4), List.of(4, 5, 6, 7), List.of(1, 3, 5, 7), List.of(2, 7, 3, 6))) {
      Map<Integer, BigInteger> some = new TreeMap<>();
      subset.forEach(x -> some.put(x, new BigInteger(1, Shamir.encode(shares.get(x)))));
      assertArrayEquals(secret, Shamir.toBytes(Shamir.combine(some, 4), 32));
    }
    Map<Integer, BigInteger> three = new HashMap<>();
    List.of(1, 2, 3).forEach(x -> three.put(x, shares.get(x)));
    assertNotEquals(new BigInteger(1, secret), Shamir.combine(three, 3));
  }

  @Test
  void badThresholdIsRefusedWithItsReason() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Shamir.split(BigInteger.ONE, 5, 4, new Random()));
    assertEquals("threshold must be between 1 and the number of shares 4, got 5", e.getMessage());
  }
}
