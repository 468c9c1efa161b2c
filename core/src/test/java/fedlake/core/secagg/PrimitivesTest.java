package fedlake.core.secagg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Known answers of the mask generator, X25519 and AES-GCM, and exact mask cancellation. */
class PrimitivesTest {
  private static byte[] hex(String s) {
    return HexFormat.of().parseHex(s);
  }

  @Test
  void maskGeneratorIsAes256CounterModeReadLittleEndian() {
    // FIPS-197 / NIST: AES-256 with the zero key encrypts the zero block to
    // dc95c078a2408989ad48a21492842087
    long[] words = Prg.words(new byte[32], 3);
    assertEquals(0x898940a278c095dcL, words[0]);
    assertEquals(0x87208492_14a248adL, words[1]);
    assertArrayEquals(words, Prg.words(new byte[32], 3)); // deterministic
  }

  @Test
  void pairAndSelfMasksCancelBitForBit() {
    Random random = new Random(3);
    byte[] ab = new byte[32];
    byte[] ac = new byte[32];
    byte[] bc = new byte[32];
    random.nextBytes(ab);
    random.nextBytes(ac);
    random.nextBytes(bc);
    long[] a = {1, -2, Long.MAX_VALUE, 5};
    long[] b = {10, 20, 1, -7};
    long[] c = {-100, 0, 1, 9};
    long[] plain = new long[4];
    for (int i = 0; i < 4; i++) {
      plain[i] = a[i] + b[i] + c[i];
    }
    Prg.add(a, ab, 1);
    Prg.add(a, ac, 1);
    Prg.add(b, ab, -1);
    Prg.add(b, bc, 1);
    Prg.add(c, ac, -1);
    Prg.add(c, bc, -1);
    long[] sum = new long[4];
    for (int i = 0; i < 4; i++) {
      sum[i] = a[i] + b[i] + c[i];
    }
    assertArrayEquals(plain, sum);
  }

  @Test
  void x25519MatchesRfc7748() {
    byte[] alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    byte[] alicePublic = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    byte[] bob = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    byte[] bobPublic = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    byte[] shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assertArrayEquals(alicePublic, SecAggCrypto.publicOf(alice));
    assertArrayEquals(bobPublic, SecAggCrypto.publicOf(bob));
    assertArrayEquals(
        shared,
        SecAggCrypto.agreeRaw(SecAggCrypto.privateKey(alice), SecAggCrypto.publicKey(bobPublic)));
    assertArrayEquals(
        SecAggCrypto.agree(SecAggCrypto.privateKey(alice), SecAggCrypto.publicKey(bobPublic), "x"),
        SecAggCrypto.agree(SecAggCrypto.privateKey(bob), SecAggCrypto.publicKey(alicePublic), "x"));
    var pair = SecAggCrypto.generate();
    assertArrayEquals(
        SecAggCrypto.raw(pair.getPublic()),
        SecAggCrypto.publicOf(SecAggCrypto.raw(pair.getPrivate())));
  }

  @Test
  void sealedSharesOpenOnlyUnchangedAndForTheirPair() {
    byte[] key = new byte[32];
    key[0] = 1;
    byte[] sealed = SecAggCrypto.seal(key, "share".getBytes(), "from a to b");
    assertArrayEquals("share".getBytes(), SecAggCrypto.open(key, sealed, "from a to b"));
    IllegalArgumentException other =
        assertThrows(
            IllegalArgumentException.class, () -> SecAggCrypto.open(key, sealed, "from a to c"));
    assertEquals(
        "ciphertext does not authenticate: changed after it was sealed, or sealed for another site,"
            + " round or key",
        other.getMessage());
    sealed[sealed.length - 1] ^= 1;
    assertThrows(
        IllegalArgumentException.class, () -> SecAggCrypto.open(key, sealed, "from a to b"));
  }

  @Test
  void quantiserKnownAnswers() {
    Quantizer q = new Quantizer(1.0, 1024);
    // w = 3: round(3 * 0.25 * 1024) = 768, clamp(-2) = -1 -> -3072, round(3 * 0.0001 * 1024) = 0
    assertArrayEquals(new long[] {768, -3072, 0, 3}, q.encode(new double[] {0.25, -2, 0.0001}, 3));
    long[] sum = {768 + 512, -3072 + 1024, 0, 3 + 2}; // with w = 2, change (0.25, 0.5, 0)
    assertArrayEquals(new double[] {1280 / 5120.0, -2048 / 5120.0, 0}, q.meanChange(sum), 0);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Quantizer(1.0, 0x1p40).encode(new double[] {0}, 5000));
    assertEquals(
        "5000 examples x clip 1.0 x scale 1.099511627776E12 exceeds 2^52: lower the secure"
            + " aggregation scale",
        e.getMessage());
  }
}
