package fedlake.jobs.simulation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.cli.Args;
import fedlake.core.cli.Option;
import fedlake.schema.ClientAlgorithmName;
import fedlake.schema.ClientSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** simulate's unlabeled sites: who trains without labels, the baseline, the spec, the errors. */
class SimulateUnlabeledTest {
  private static SimulateUnlabeled parse(String... argv) {
    List<Option> options = new ArrayList<>(SimulateUnlabeled.OPTIONS);
    options.add(Option.value("bootstrap", "B", "round-0 model"));
    options.add(Option.value("text", "FILE", "class text embeddings"));
    Args args = Args.parse("simulate", SimulateUnlabeled.withZeroShot(argv), options);
    return SimulateUnlabeled.fromArgs(args, 20, 3);
  }

  @Test
  void aShareOfTheSitesTrainsWithoutLabelsOrSitsOutUnderTheBaseline() {
    SimulateUnlabeled mixed = parse("--unlabeled", "0.8", "--text", "t.npy");
    long hidden = IntStream.range(0, 20).filter(mixed::hides).count();
    assertEquals(16, hidden);
    assertTrue(IntStream.range(0, 20).noneMatch(mixed::skips));
    SimulateUnlabeled alone = parse("--unlabeled", "0.8", "--text", "t.npy", "--drop-unlabeled");
    // the same sites: the baseline leaves out exactly the ones the mixed run trains without labels
    assertArrayEquals(
        IntStream.range(0, 20).filter(mixed::hides).toArray(),
        IntStream.range(0, 20).filter(alone::skips).toArray());
    assertTrue(IntStream.range(0, 20).noneMatch(alone::hides));
    assertTrue(IntStream.range(0, 20).allMatch(parse("--unlabeled", "all", "--text", "t")::hides));
  }

  @Test
  void theSpecGetsTheCommandLinesSettings() {
    ClientSpec client =
        ClientSpec.newBuilder()
            .setAlgorithm(ClientAlgorithmName.SCAFFOLD)
            .setEpochs(5)
            .setBatchSize(16)
            .setLearningRate(0.3)
            .build();
    parse("--unlabeled", "all", "--text", "t", "--pseudo-top", "0.3", "--pseudo-trust", "2")
        .adjust(client);
    assertEquals(0.3, client.getUnlabeled().getTopFraction());
    assertEquals(2.0, client.getUnlabeled().getTrust());
    assertEquals(0.7, client.getUnlabeled().getMomentum());
    assertEquals(1.0, client.getUnlabeled().getPriorCorrection(), "on by default");
    parse("--unlabeled", "all", "--text", "t", "--prior-correction", "0.5").adjust(client);
    assertEquals(0.5, client.getUnlabeled().getPriorCorrection());
  }

  @Test
  void aPriorCorrectionOutsideZeroToOneIsRefused() {
    ClientSpec client =
        ClientSpec.newBuilder()
            .setAlgorithm(ClientAlgorithmName.SCAFFOLD)
            .setEpochs(5)
            .setBatchSize(16)
            .setLearningRate(0.3)
            .build();
    assertEquals(
        "unlabeled training: prior correction must be in [0, 1], got 1.5",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    parse("--unlabeled", "all", "--text", "t", "--prior-correction", "1.5")
                        .adjust(client))
            .getMessage());
  }

  @Test
  void badValuesAreRefusedWithTheReason() {
    assertEquals(
        "simulate: --unlabeled must be all or a share of the sites in (0, 1], got '1.5'",
        assertThrows(IllegalArgumentException.class, () -> parse("--unlabeled", "1.5"))
            .getMessage());
    assertEquals(
        "simulate: --pseudo-top needs --unlabeled all|F",
        assertThrows(IllegalArgumentException.class, () -> parse("--pseudo-top", "0.3"))
            .getMessage());
    assertEquals(
        "simulate: --drop-unlabeled with every site unlabeled leaves no site to train",
        assertThrows(
                IllegalArgumentException.class,
                () -> parse("--unlabeled", "all", "--drop-unlabeled"))
            .getMessage());
    assertEquals(
        "simulate: --unlabeled trains from the zero-shot head: use --bootstrap zero-shot (or"
            + " none) with --text FILE, not --bootstrap synthetic",
        assertThrows(
                IllegalArgumentException.class,
                () -> parse("--unlabeled", "all", "--bootstrap", "synthetic"))
            .getMessage());
    assertEquals(
        "unlabeled training: top fraction must be in (0, 1], got 0.0",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    parse("--unlabeled", "all", "--pseudo-top", "0")
                        .adjust(
                            ClientSpec.newBuilder()
                                .setAlgorithm(ClientAlgorithmName.SGD)
                                .setEpochs(1)
                                .setBatchSize(1)
                                .setLearningRate(0.1)
                                .build()))
            .getMessage());
  }
}
