package fedlake.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.schema.UpdateEncoding;
import org.junit.jupiter.api.Test;

/** fp16 and int8 encodings of a change: sizes, known answers, error bounds, unbiased rounding. */
class UpdateCodecTest {
  private static final int[] PARTS = {6, 3, 0}; // a 3 x 2 head: weights, bias, no cache keys

  @Test
  void int8ScalesEachRowByItsLargestValue() {
    float[] change = {0.5f, -1.0f, 0.127f, 0.0635f, 0, 0, 2.54f, -1.27f, 0};
    UpdateCodec.Encoded e = UpdateCodec.encode(UpdateEncoding.INT8, change, PARTS, 2, 1);
    // rows of 2 within each part: [0.5,-1], [0.127,0.0635], [0,0], then bias [2.54,-1.27], [0]
    assertArrayEquals(new float[] {1f / 127, 0.127f / 127, 0, 2.54f / 127, 0}, e.scales(), 1e-9f);
    assertEquals(-127, e.bytes()[1], "the largest magnitude of a row maps to 127");
    assertEquals(127, e.bytes()[2]);
    assertEquals(0, e.bytes()[4]);
    assertEquals(127, e.bytes()[6]);
    assertEquals(-64, e.bytes()[7], "-1.27 / 0.02 is exactly -63.5: -63 or -64, here -64");
    float[] back = new float[9];
    assertNull(UpdateCodec.decode(UpdateEncoding.INT8, e.bytes(), e.scales(), PARTS, 2, back, 9));
    for (int i = 0; i < change.length; i++) {
      float scale = e.scales()[UpdateCodecTest.block(i)];
      assertTrue(Math.abs(back[i] - change[i]) <= scale * 1.0001, "within one step at " + i);
    }
  }

  private static int block(int i) {
    return i < 6 ? i / 2 : 3 + (i - 6) / 2;
  }

  @Test
  void int8RoundingIsUnbiased() {
    float[] change = {1.0f, 0.3f, 0.3f, 0.3f};
    int[] parts = {4};
    double sum = 0;
    int draws = 20_000;
    float[] back = new float[4];
    for (int seed = 0; seed < draws; seed++) {
      UpdateCodec.Encoded e = UpdateCodec.encode(UpdateEncoding.INT8, change, parts, 4, seed);
      UpdateCodec.decode(UpdateEncoding.INT8, e.bytes(), e.scales(), parts, 4, back, 4);
      sum += back[1];
    }
    // 0.3 = 38.1 steps of 1/127: round to nearest would always give 38/127 = 0.29921
    assertEquals(0.3, sum / draws, 2e-4, "the mean of stochastic rounding is the value");
  }

  @Test
  void fp16KeepsElevenSignificantBitsOfTheChange() {
    float[] change = {1e-4f, -3.3e-3f, 0.25f, 7f, 0, 0, 1e-7f, -65000f, 1f / 3};
    UpdateCodec.Encoded e = UpdateCodec.encode(UpdateEncoding.FP16, change, PARTS, 2, 0);
    assertEquals(18, e.bytes().length, "2 bytes a value");
    assertEquals(0, e.scales().length);
    float[] back = new float[9];
    assertNull(UpdateCodec.decode(UpdateEncoding.FP16, e.bytes(), e.scales(), PARTS, 2, back, 9));
    for (int i = 0; i < change.length; i++) {
      double tolerance = Math.max(Math.abs(change[i]) * 0x1p-11, 0x1p-25);
      assertEquals(change[i], back[i], tolerance, "value " + i);
    }
  }

  @Test
  void decodingNamesWhatDoesNotFit() {
    float[] into = new float[9];
    assertEquals(
        "holds 17 bytes, fp16 needs 18 for 9 values",
        UpdateCodec.decode(UpdateEncoding.FP16, new byte[17], new float[0], PARTS, 2, into, 9));
    assertEquals(
        "has 4 scales, 5 blocks need one each",
        UpdateCodec.decode(UpdateEncoding.INT8, new byte[9], new float[4], PARTS, 2, into, 9));
    assertEquals(
        "scale NaN of block 2 is not a finite value >= 0",
        UpdateCodec.decode(
            UpdateEncoding.INT8,
            new byte[9],
            new float[] {1, 1, Float.NaN, 1, 1},
            PARTS,
            2,
            into,
            9));
    assertEquals(
        "scale -1.0 of block 0 is not a finite value >= 0",
        UpdateCodec.decode(
            UpdateEncoding.INT8, new byte[9], new float[] {-1, 1, 1, 1, 1}, PARTS, 2, into, 9));
  }

  @Test
  void namesParseBothWays() {
    for (UpdateEncoding e : UpdateEncoding.values()) {
      assertEquals(e, UpdateCodec.parse(UpdateCodec.id(e)));
    }
    assertEquals(UpdateEncoding.FP32, UpdateCodec.parse(null), "no encoding field: fp32");
    assertNull(UpdateCodec.parse("fp8"));
  }
}
