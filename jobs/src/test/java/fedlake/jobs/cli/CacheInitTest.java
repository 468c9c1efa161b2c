package fedlake.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import fedlake.core.data.Dataset;
import fedlake.core.data.DatasetFiles;
import fedlake.core.data.Npy;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.store.Store;
import fedlake.jobs.FedlakeMain;
import fedlake.schema.Model;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fedlake init --model cache --keys PATH}: the round-0 cache model from a keys file, and its
 * errors.
 */
class CacheInitTest {
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        FedlakeMain.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Keys (3, 4) of class 1 and (0, 2) of class 0, as Parquet DatasetRows. */
  private Path keysParquet() throws IOException {
    Dataset keys = Dataset.of("keys", new float[] {3, 4, 0, 2}, new int[] {1, 0}, 2);
    Path file = dir.resolve("keys.parquet");
    DatasetFiles.writeParquet(
        keys, new org.apache.hadoop.fs.Path(file.toUri()), new Configuration(), "key-");
    return file;
  }

  @Test
  void initWritesACacheModelFromAParquetKeysFile() throws IOException {
    String store = dir.resolve("store").toUri().toString();
    Run run =
        run(
            "init",
            "--store",
            store,
            "--dim",
            "2",
            "--classes",
            "3",
            "--model",
            "cache",
            "--keys",
            keysParquet().toString(),
            "--cache-alpha",
            "2",
            "--cache-beta",
            "3",
            "--strategy",
            "scaffold");
    assertEquals(0, run.code(), run.err());
    assertTrue(
        run.out()
            .startsWith(
                "Initialised "
                    + Store.open(store).root()
                    + ": round 0, 3 x 2 cache model with 2 keys, models [r0-c0-"),
        run.out());
    Model model = Store.open(store).readModel(0, 0);
    assertEquals(Models.CACHE, model.getKind());
    assertEquals(List.of(1, 0), model.getCacheLabels());
    float[] keys = FloatArrays.toArray(model.getCacheKeys());
    assertEquals(0.6f, keys[0], 1e-7f);
    assertEquals(0.8f, keys[1], 1e-7f);
    assertEquals(0f, keys[2], 0f);
    assertEquals(1f, keys[3], 1e-7f);
    assertEquals(2f, model.getCacheAlpha());
    assertEquals(3f, model.getCacheBeta());
    assertEquals(6 + 3 + 4, model.getControlVariate().size());
    assertEquals(6, model.getWeights().size());
  }

  @Test
  void initWithTextUsesTheZeroShotHead() throws IOException {
    Path text = dir.resolve("text_X.npy");
    Npy.writeFloat32(text, new float[] {2, 0, 0, 3, 1, 1}, 3, 2);
    String store = dir.resolve("store").toUri().toString();
    Run run =
        run(
            "init",
            "--store",
            store,
            "--dim",
            "2",
            "--classes",
            "3",
            "--model",
            "cache",
            "--keys",
            keysParquet().toString(),
            "--text",
            text.toString());
    assertEquals(0, run.code(), run.err());
    Model model = Store.open(store).readModel(0, 0);
    assertEquals("zero-shot", model.getInitialization());
    // default alpha over a text head: 16 / (1 key a class) * logit scale 10 / 100
    assertEquals(1.6f, model.getCacheAlpha(), 1e-6f);
    float[] weights = FloatArrays.toArray(model.getWeights());
    assertEquals(1f, weights[0], 1e-7f);
    assertEquals(1f, weights[3], 1e-7f);
    assertEquals((float) Math.sqrt(0.5), weights[4], 1e-7f);
  }

  @Test
  void errorsNameTheProblem() throws IOException {
    String store = dir.resolve("store").toUri().toString();
    Run noKeys = run("init", "--store", store, "--dim", "2", "--classes", "3", "--model", "cache");
    assertEquals(2, noKeys.code());
    assertEquals(
        "fedlake init: init: --model cache needs --keys PATH (labelled embeddings to use as cache keys)",
        noKeys.err().strip());
    Run headWithKeys =
        run(
            "init",
            "--store",
            store,
            "--dim",
            "2",
            "--classes",
            "3",
            "--keys",
            keysParquet().toString());
    assertEquals("fedlake init: init: --keys needs --model cache", headWithKeys.err().strip());
    Run wrongDimension =
        run(
            "init",
            "--store",
            store,
            "--dim",
            "4",
            "--classes",
            "3",
            "--model",
            "cache",
            "--keys",
            keysParquet().toString());
    assertEquals(2, wrongDimension.code());
    assertEquals(
        "fedlake init: " + keysParquet() + ": keys have dimension 2, the model has 4",
        wrongDimension.err().strip());
    Run tooFewClasses =
        run(
            "init",
            "--store",
            store,
            "--dim",
            "2",
            "--classes",
            "2",
            "--model",
            "cache",
            "--keys",
            keysParquet().toString(),
            "--cache-alpha",
            "-1");
    assertEquals(
        "fedlake init: Cache alpha must be finite and >= 0, got -1.0", tooFewClasses.err().strip());
    Run kind = run("init", "--store", store, "--dim", "2", "--classes", "3", "--model", "forest");
    assertEquals(
        "fedlake init: init: --model must be 'head' or 'cache', got 'forest'", kind.err().strip());
    assertTrue(Store.open(store).latest().isEmpty(), "nothing was written");
  }

  @Test
  void initTakesTheKeysOfASyntheticTable() throws IOException {
    Path text = dir.resolve("text_X.npy");
    Npy.writeFloat32(text, new float[] {1, 0, 0, 1, -1, 0}, 3, 2);
    fedlake.core.synth.TextSource source =
        new fedlake.core.synth.TextSource(
            fedlake.core.synth.TextEmbeddings.read(text.toString(), new Configuration()), 0.1);
    List<fedlake.schema.SyntheticRow> rows =
        fedlake.core.synth.SyntheticTable.generate(
            source, 2, 5, fedlake.core.synth.SyntheticTable.MissingClasses.FAIL);
    Path table = dir.resolve("synthetic.parquet");
    fedlake.core.synth.SyntheticTable.write(
        Store.open(dir.toUri().toString()),
        new org.apache.hadoop.fs.Path(table.toUri()),
        rows,
        fedlake.core.synth.SyntheticTable.provenance(source, 2, 5, List.of(), 0));
    String store = dir.resolve("store").toUri().toString();
    Run run =
        run(
            "init",
            "--store",
            store,
            "--dim",
            "2",
            "--classes",
            "3",
            "--model",
            "cache",
            "--keys",
            table.toString());
    assertEquals(0, run.code(), run.err());
    Model model = Store.open(store).readModel(0, 0);
    assertEquals(List.of(0, 0, 1, 1, 2, 2), model.getCacheLabels());
    float[] keys = FloatArrays.toArray(model.getCacheKeys());
    for (int k = 0; k < 6; k++) {
      fedlake.schema.SyntheticRow row = rows.get(k);
      assertEquals(row.getEmbedding().get(0), keys[2 * k], 1e-6f, "key " + k);
      assertEquals(row.getEmbedding().get(1), keys[2 * k + 1], 1e-6f, "key " + k);
    }
  }
}
