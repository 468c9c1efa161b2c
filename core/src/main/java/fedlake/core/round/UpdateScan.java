package fedlake.core.round;

import fedlake.core.InvalidInputException;
import fedlake.core.client.ForwardOnlySettings;
import fedlake.core.client.SeededUpdate;
import fedlake.core.cluster.ProfileBuilder;
import fedlake.core.codec.UpdateCodec;
import fedlake.core.columnar.ColumnarFile;
import fedlake.core.model.FloatArrays;
import fedlake.core.model.Models;
import fedlake.core.strategy.UpdateParameters;
import fedlake.core.synth.ClassMoments;
import fedlake.core.synth.SiteStatistics;
import fedlake.core.synth.StatisticsPool;
import fedlake.schema.ClassStatistics;
import fedlake.schema.Model;
import fedlake.schema.SiteProfile;
import fedlake.schema.UpdateEncoding;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;

/**
 * The round's work on one update file, in one read: the footer is checked against the model (row
 * count, value counts and uncompressed sizes of every column) before anything is decoded, then the
 * scalar facts are checked, then the parameters are decoded straight into primitive arrays,
 * checked, folded into the target cluster's {@link fedlake.core.strategy.Fold}, and the class
 * statistics, if wanted, pooled. No file can make it allocate more than one update's worth of the
 * model's shape.
 */
public final class UpdateScan {
  static final List<String> FACT_FIELDS =
      List.of(
          "updateId",
          "site",
          "round",
          "cluster",
          "baseModelVersion",
          "kind",
          "dimension",
          "classCount",
          "numExamples",
          "localEpochs",
          "localSteps",
          "localLoss",
          "localAccuracy",
          "labelHistogram",
          "specVersion",
          "createdTime",
          "holdoutAccuracy",
          "keyId",
          "signature",
          "encoding",
          "downloadBytes",
          "trainCpuMillis",
          "peakMemoryBytes",
          "pseudoLabelAccuracy",
          "auditAccuracy",
          "auditZeroShotAccuracy");
  private static final List<String> PARAMETER_FIELDS =
      List.of(
          "weights",
          "bias",
          "cacheKeys",
          "controlDelta",
          "encodedChange",
          "changeScales",
          "encodedControlDelta",
          "controlDeltaScales");

  /** A forward-only update's seed, step size, directions and scalars (replayed into parameters). */
  private static final List<String> SEEDED_FIELDS =
      List.of(
          "seededSeed", "seededLearningRate", "seededDirections", "seededScalars", "seededIndices");

  private static final String STATISTICS = "classStatistics";
  private static final String PREDICTION_SUM = "predictionSum";
  private static final String PREDICTION_ROWS = "predictionRows";
  private static final String FINGERPRINT = "statisticsFingerprint";
  private static final String EMPTY_FINGERPRINT = SiteStatistics.fingerprint(List.of());
  private static final int MAX_TEXT = 256;

  /** Room for levels, page headers and a dictionary on top of 4 bytes a value. */
  private static final long COLUMN_SLACK = 1 << 20;

  private final FileSystem fs;
  private final RoundRules rules;
  // one update's arrays, reused file after file (folds copy what they keep): a scan allocates no
  // per-file parameters
  private float[] parameterBuffer = new float[0];
  private float[] deltaBuffer = new float[0];

  public UpdateScan(FileSystem fs, RoundRules rules) {
    this.fs = fs;
    this.rules = rules;
  }

  /** The facts of {@code file} without decoding parameters (ordering second uploads of a site). */
  public UpdateCheck facts(UpdateFile file) {
    try (ColumnarFile columns = open(file)) {
      columns.load(FACT_FIELDS);
      UpdateFacts facts = facts(columns);
      return facts.check(file.uri(), file.bytes(), null, problem(file, facts));
    } catch (InvalidInputException e) {
      return UpdateCheck.unreadable(file.uri(), file.bytes(), e.reason());
    } catch (RuntimeException e) {
      return UpdateCheck.unreadable(file.uri(), file.bytes(), "cannot read: " + e);
    }
  }

  /**
   * Checks {@code file} and, when it is accepted, folds it into {@code into}; adds its check to
   * {@code into}.
   */
  public UpdateCheck scan(UpdateFile file, ScanResult into) {
    UpdateCheck check;
    try {
      check = read(file, into);
    } catch (InvalidInputException e) {
      check = UpdateCheck.unreadable(file.uri(), file.bytes(), e.reason());
    } catch (OutOfMemoryError e) {
      check =
          UpdateCheck.unreadable(
              file.uri(),
              file.bytes(),
              "needs more memory than the round job has to read (" + e.getMessage() + ")");
    } catch (RuntimeException e) {
      check = UpdateCheck.unreadable(file.uri(), file.bytes(), "cannot read: " + e);
    }
    into.checks().add(check);
    return check;
  }

  private ColumnarFile open(UpdateFile file) {
    if (file.bytes() > rules.maxUpdateBytes()) {
      throw new InvalidInputException(
          file.uri(),
          String.format(
              Locale.ROOT,
              "file is %d bytes, more than the limit of %d (robustness.maxUpdateBytes)",
              file.bytes(),
              rules.maxUpdateBytes()));
    }
    ColumnarFile columns = ColumnarFile.open(file.uri(), file.bytes(), fs);
    try {
      long declared = columns.declaredBytes();
      if (declared > rules.maxUpdateBytes()) {
        throw new InvalidInputException(
            file.uri(),
            String.format(
                Locale.ROOT,
                "columns would decompress to %d bytes, more than the limit of %d (robustness.maxUpdateBytes)",
                declared,
                rules.maxUpdateBytes()));
      }
      return columns;
    } catch (RuntimeException e) {
      columns.close();
      throw e;
    }
  }

  private UpdateCheck read(UpdateFile file, ScanResult into) {
    try (ColumnarFile columns = open(file)) {
      Model any = rules.validator().anyBase();
      int size = Models.parameterCount(any);
      int weights = any.getWeights().size();
      int bias = any.getBias().size();
      int keys = any.getCacheKeys().size();
      String bound = declaredBound(columns, "weights", weights);
      bound = bound != null ? bound : declaredBound(columns, "bias", bias);
      bound = bound != null ? bound : declaredBound(columns, "cacheKeys", keys);
      bound = bound != null ? bound : declaredBound(columns, "controlDelta", size);
      bound = bound != null ? bound : declaredBound(columns, "labelHistogram", any.getClassCount());
      bound = bound != null ? bound : declaredBound(columns, PREDICTION_SUM, any.getClassCount());
      int blocks = UpdateCodec.blocks(UpdateCodec.parts(any), any.getDimension());
      bound = bound != null ? bound : declaredBound(columns, "changeScales", blocks);
      bound = bound != null ? bound : declaredBound(columns, "controlDeltaScales", blocks);
      bound = bound != null ? bound : encodedBound(columns, "encodedChange", size);
      bound = bound != null ? bound : encodedBound(columns, "encodedControlDelta", size);
      bound =
          bound != null
              ? bound
              : declaredBound(columns, "seededScalars", ForwardOnlySettings.MAX_SCALARS);
      if (bound != null) {
        return UpdateCheck.unreadable(file.uri(), file.bytes(), bound);
      }
      boolean statistics = rules.poolStatistics() && columns.has(STATISTICS);
      List<String> fields = new ArrayList<>(FACT_FIELDS);
      fields.addAll(PARAMETER_FIELDS);
      if (statistics) {
        fields.add(STATISTICS);
      }
      boolean fingerprinted =
          (rules.poolStatistics() || rules.validator().checksSignatures())
              && columns.has(FINGERPRINT);
      if (fingerprinted) {
        fields.add(FINGERPRINT);
      }
      for (String field : SEEDED_FIELDS) {
        if (columns.has(field)) {
          fields.add(field);
        }
      }
      boolean profiled = rules.profiles() != null;
      if (profiled && !statistics && columns.has(STATISTICS)) {
        fields.add(STATISTICS);
      }
      if (profiled && columns.has("clusterChoice")) {
        fields.add("clusterChoice");
      }
      boolean predictions = columns.has(PREDICTION_SUM);
      if (predictions) {
        fields.add(PREDICTION_SUM);
        if (columns.has(PREDICTION_ROWS)) {
          fields.add(PREDICTION_ROWS);
        }
      }
      columns.load(fields);
      UpdateFacts facts = facts(columns);
      String reason = problem(file, facts);
      if (reason != null) {
        return facts.check(file.uri(), file.bytes(), null, reason);
      }
      Model base = rules.validator().base(facts.cluster());
      UpdateEncoding encoding = UpdateCodec.parse(facts.encoding());
      float[] parameters = buffer(size, false);
      float[] controlDelta;
      if (encoding == UpdateEncoding.FP32) {
        int w = optionalFloats(columns, "weights", parameters, 0, weights);
        int b = optionalFloats(columns, "bias", parameters, weights, bias);
        Long seed = columns.longValue("seededSeed");
        if (seed != null) {
          String seededProblem = seededProblem(columns, facts, any, w + b);
          if (seededProblem != null) {
            return facts.check(file.uri(), file.bytes(), null, seededProblem);
          }
          float[] scalars = new float[(int) columns.declaredValues("seededScalars")];
          int n = columns.floats("seededScalars", scalars, 0, scalars.length);
          SeededUpdate seeded =
              new SeededUpdate(
                  seed,
                  (float) (double) columns.doubleValue("seededLearningRate"),
                  (int) (long) columns.longValue("seededDirections"),
                  java.util.Arrays.copyOf(scalars, n),
                  seededIndices(columns));
          float[] replayed = seeded.replay(rules.validator().trainedFrom(facts));
          System.arraycopy(replayed, 0, parameters, 0, replayed.length);
          w = weights;
          b = bias;
        }
        int k = optionalFloats(columns, "cacheKeys", parameters, weights + bias, keys);
        boolean withDelta =
            columns.has("controlDelta") && columns.declaredValues("controlDelta") > 1;
        controlDelta = withDelta ? buffer(size, true) : new float[0];
        int c = withDelta ? columns.floats("controlDelta", controlDelta, 0, size) : 0;
        reason = UpdateValidator.shapeProblem(w, b, k, c, base);
      } else {
        reason = encodedOnly(columns, encoding);
        if (reason == null) {
          reason = decode(columns, encoding, "encodedChange", "changeScales", base, parameters);
        }
        if (reason == null) {
          float[] origin = rules.validator().baseParameters(facts.round(), facts.cluster());
          for (int i = 0; i < size; i++) {
            parameters[i] += origin[i];
          }
        }
        boolean withDelta = columns.has("encodedControlDelta");
        controlDelta = withDelta ? buffer(size, true) : new float[0];
        if (reason == null && withDelta) {
          reason =
              decode(
                  columns,
                  encoding,
                  "encodedControlDelta",
                  "controlDeltaScales",
                  base,
                  controlDelta);
          if ("encodedControlDelta is missing".equals(reason)) {
            reason = null;
            controlDelta = new float[0];
          }
        }
      }
      if (reason == null) {
        reason = rules.validator().controlDeltaProblem(controlDelta);
      }
      if (reason == null) {
        String signed = fingerprinted ? columns.string(FINGERPRINT, 64) : null;
        reason = rules.validator().signatureProblem(facts, parameters, size, controlDelta, signed);
      }
      List<ClassMoments> moments = null;
      String claimed = fingerprinted ? columns.string(FINGERPRINT, 64) : null;
      if (reason == null && claimed != null && !claimed.matches("[0-9a-f]{64}")) {
        reason = "statisticsFingerprint '" + claimed + "' is not a SHA-256 in lower-case hex";
      }
      String fingerprint = claimed;
      if (reason == null && statistics) {
        List<ClassStatistics> reported = statistics(columns, base);
        reason =
            UpdateValidator.statisticsProblem(
                reported, facts.labelHistogram(), facts.classCount(), facts.dimension());
        if (reason == null && (!reported.isEmpty() || EMPTY_FINGERPRINT.equals(claimed))) {
          moments = reported.stream().map(ClassMoments::fromAvro).toList();
          fingerprint = SiteStatistics.fingerprint(reported);
          if (claimed != null && !claimed.equals(fingerprint)) {
            reason =
                "statisticsFingerprint "
                    + claimed
                    + " does not match the class statistics the update carries ("
                    + fingerprint
                    + ")";
          }
        }
      }
      float[] predictionSum = null;
      Long predictionRows = null;
      if (reason == null && predictions) {
        float[] read = new float[base.getClassCount()];
        int n = columns.floats(PREDICTION_SUM, read, 0, read.length);
        if (n > 0) { // an empty or null list: no sum reported
          predictionSum = java.util.Arrays.copyOf(read, n);
          predictionRows = columns.has(PREDICTION_ROWS) ? columns.longValue(PREDICTION_ROWS) : null;
          reason = PriorCorrection.problem(predictionSum, predictionRows, base.getClassCount());
          if (reason == null && predictionRows > facts.numExamples()) {
            // its weight in the mean prediction is bounded like its weight in the mean update
            reason =
                "predictionRows is "
                    + predictionRows
                    + ", more than the update's numExamples ("
                    + facts.numExamples()
                    + ")";
          }
        }
      }
      if (reason != null) {
        return facts.check(file.uri(), file.bytes(), null, reason);
      }
      UpdateCheck check =
          rules.validator().checkParameters(file.uri(), file.bytes(), facts, parameters);
      if (!check.accepted()) {
        return check;
      }
      SiteProfile profile = null;
      if (profiled) { // from the parameters as the site trained them, before any rebase
        try {
          profile = profile(columns, facts, parameters, base, statistics ? moments : null);
        } catch (IllegalArgumentException e) {
          return facts.check(file.uri(), file.bytes(), null, e.getMessage());
        }
      }
      int target = rules.target(facts.site(), facts.cluster());
      int staleness = rules.validator().staleness(facts);
      rules.validator().rebase(facts, parameters, target);
      try {
        into.folds()
            .computeIfAbsent(
                target,
                t ->
                    rules
                        .strategy()
                        .newFold(rules.validator().aggregationBase(t), rules.settings()))
            .add(
                new UpdateParameters(
                    facts.site(),
                    rules.validator().lateUpdates().weight(facts.numExamples(), staleness),
                    facts.localSteps(),
                    parameters,
                    controlDelta));
      } catch (
          IllegalArgumentException
              e) { // the strategy cannot use it (FedNova: no local steps); folds check before
        // adding
        return facts.check(file.uri(), file.bytes(), null, e.getMessage());
      }
      if (predictionSum != null && staleness == 0) { // a late site predicted with an older model
        int classes = base.getClassCount();
        into.priors()
            .computeIfAbsent(target, t -> new PriorCorrection(classes))
            .add(predictionSum, predictionRows);
      }
      if (profile != null) {
        into.profiles().put(file.uri(), profile);
      }
      if (moments != null && rules.poolStatistics()) {
        into.statistics()
            .computeIfAbsent(target, t -> new StatisticsPool(facts.dimension()))
            .add(moments);
      }
      check = check.withStatistics(fingerprint, moments != null).withStaleness(staleness);
      return target == facts.cluster() ? check : check.withCluster(target);
    }
  }

  /**
   * The site profile of an accepted update. Class statistics count when the scan checked them
   * (calibration) or, otherwise, when they pass the same check; statistics that do not pass leave
   * the profile without an embedding mean and do not reject the update, so the profiles job accepts
   * the same updates as the round job.
   */
  private SiteProfile profile(
      ColumnarFile columns,
      UpdateFacts facts,
      float[] parameters,
      Model base,
      List<ClassMoments> checked) {
    List<ClassStatistics> reported = null;
    if (checked != null) {
      reported = checked.stream().map(ClassMoments::toAvro).toList();
    } else if (!rules.poolStatistics() && columns.has(STATISTICS)) {
      try {
        List<ClassStatistics> read = statistics(columns, base);
        if (UpdateValidator.statisticsProblem(
                read, facts.labelHistogram(), facts.classCount(), facts.dimension())
            == null) {
          reported = read;
        }
      } catch (InvalidInputException e) {
        // unreadable statistics: the profile has no embedding mean
      }
    }
    Long choice = columns.has("clusterChoice") ? columns.longValue("clusterChoice") : null;
    RoundRules.Profiles how = rules.profiles();
    return how.builder()
        .build(
            new ProfileBuilder.Source(
                facts.round(),
                facts.site(),
                facts.cluster(),
                choice == null ? null : (int) (long) choice,
                facts.updateId(),
                facts.baseModelVersion(),
                facts.numExamples(),
                facts.labelHistogram(),
                reported,
                facts.classCount(),
                facts.dimension()),
            parameters,
            base,
            how.origin(),
            how.choiceInformative(),
            how.createdTime());
  }

  /**
   * Why a forward-only update cannot be replayed: another model kind, parameters sent as well, a
   * step size or direction count missing or out of range, not localSteps x directions scalars, or
   * indices of chosen directions that are not one per scalar or repeat a direction in a step.
   */
  private static String seededProblem(
      ColumnarFile columns, UpdateFacts facts, Model any, int sentParameters) {
    if (!Models.HEAD.equals(any.getKind())) {
      return "a forward-only update (seededSeed) is for a head model, this one is a "
          + any.getKind();
    }
    if (sentParameters != 0) {
      return "a forward-only update (seededSeed) carries its change as scalars, but it also"
          + " carries "
          + sentParameters
          + " weights and bias values";
    }
    Double rate = columns.doubleValue("seededLearningRate");
    Long directions = columns.longValue("seededDirections");
    if (rate == null || !(rate > 0) || !Double.isFinite(rate)) {
      return "a forward-only update needs a finite seededLearningRate > 0, got " + rate;
    }
    if (directions == null || directions < 1 || directions > ForwardOnlySettings.MAX_SCALARS) {
      return "a forward-only update needs seededDirections between 1 and "
          + ForwardOnlySettings.MAX_SCALARS
          + ", got "
          + directions;
    }
    long scalars = columns.has("seededScalars") ? columns.declaredValues("seededScalars") : 0;
    if (scalars != (long) facts.localSteps() * directions) {
      return String.format(
          Locale.ROOT,
          "a forward-only update needs localSteps x seededDirections = %d x %d scalars, it has %d",
          facts.localSteps(),
          directions,
          scalars);
    }
    return SeededUpdate.indexProblem(seededIndices(columns), scalars, directions);
  }

  /** A forward-only update's indices of chosen directions, empty when it has none. */
  private static byte[] seededIndices(ColumnarFile columns) {
    byte[] indices = columns.bytes("seededIndices", ForwardOnlySettings.MAX_SCALARS);
    return indices == null ? new byte[0] : indices;
  }

  /** Why the facts disqualify the update, including a file name that names another site. */
  private String problem(UpdateFile file, UpdateFacts facts) {
    String named = file.siteFromName();
    if (named != null && !named.equals(facts.site())) {
      return "file name says site '" + named + "', the update says site '" + facts.site() + "'";
    }
    if (UpdateCodec.parse(facts.encoding()) == null) {
      return "encoding '" + facts.encoding() + "' is none of fp32, fp16, int8";
    }
    return rules.validator().problem(facts);
  }

  /**
   * Why the footer's declared size of a parameter column is too large for {@code expected} values,
   * or null.
   */
  private static String declaredBound(ColumnarFile columns, String field, long expected) {
    if (!columns.has(field)) {
      return null;
    }
    long values = columns.declaredValues(field);
    if (values > Math.max(1, expected)) {
      return String.format(
          Locale.ROOT, "%s declares %d values, the model has %d", field, values, expected);
    }
    long bytes = columns.declaredBytes(field);
    if (bytes > 8 * expected + COLUMN_SLACK) {
      return String.format(
          Locale.ROOT, "%s would decompress to %d bytes for %d values", field, bytes, expected);
    }
    return null;
  }

  /**
   * Why an encoded update also carries plain parameters (which of the two would count?), or null.
   */
  private static String encodedOnly(ColumnarFile columns, UpdateEncoding encoding) {
    for (String plain : List.of("weights", "bias", "cacheKeys", "controlDelta")) {
      if (columns.has(plain) && columns.declaredValues(plain) > 1) {
        return "encoding "
            + UpdateCodec.id(encoding)
            + " carries its values in encodedChange, but '"
            + plain
            + "' is not empty";
      }
    }
    return null;
  }

  /**
   * Decodes the encoded column {@code field} (with its int8 scales) into {@code into}; returns why
   * it cannot, or null.
   */
  private static String decode(
      ColumnarFile columns,
      UpdateEncoding encoding,
      String field,
      String scalesField,
      Model base,
      float[] into) {
    int size = into.length;
    byte[] encoded = columns.bytes(field, size * UpdateCodec.bytesPerValue(encoding));
    if (encoded == null) {
      return field + " is missing";
    }
    int[] parts = UpdateCodec.parts(base);
    int blocks = UpdateCodec.blocks(parts, base.getDimension());
    float[] scales = new float[0];
    if (encoding == UpdateEncoding.INT8 && columns.has(scalesField)) {
      scales = new float[blocks];
      scales = java.util.Arrays.copyOf(scales, columns.floats(scalesField, scales, 0, blocks));
    }
    String why =
        UpdateCodec.decode(encoding, encoded, scales, parts, base.getDimension(), into, size);
    return why == null ? null : field + " " + why;
  }

  /** Why the footer declares more bytes for the encoded column {@code field} than it can need. */
  private static String encodedBound(ColumnarFile columns, String field, long values) {
    if (!columns.has(field)) {
      return null;
    }
    long bytes = columns.declaredBytes(field);
    if (columns.declaredValues(field) > 1 || bytes > 2 * values + COLUMN_SLACK) {
      return String.format(
          Locale.ROOT,
          "%s would decompress to %d bytes in %d values, the model has %d parameters",
          field,
          bytes,
          columns.declaredValues(field),
          values);
    }
    return null;
  }

  private float[] buffer(int size, boolean delta) {
    if (delta) {
      if (deltaBuffer.length != size) {
        deltaBuffer = new float[size];
      }
      return deltaBuffer;
    }
    if (parameterBuffer.length != size) {
      parameterBuffer = new float[size];
    }
    return parameterBuffer;
  }

  private static int optionalFloats(
      ColumnarFile columns, String field, float[] into, int offset, int capacity) {
    return columns.has(field) ? columns.floats(field, into, offset, capacity) : 0;
  }

  /**
   * The class statistics of an update file that was accepted with them (read again when the round
   * job keeps them in the store); bounded by {@code base}'s shape like the scan.
   */
  public List<ClassStatistics> statistics(UpdateFile file, Model base) {
    try (ColumnarFile columns = open(file)) {
      columns.load(List.of(STATISTICS));
      return statistics(columns, base);
    }
  }

  private static List<ClassStatistics> statistics(ColumnarFile columns, Model base) {
    int classes = base.getClassCount();
    long d = base.getDimension();
    long[] ids = columns.recordLongs(STATISTICS, "classId", classes);
    if (ids.length == 0) {
      return List.of(); // a null or empty list
    }
    long[] counts = columns.recordLongs(STATISTICS, "count", classes);
    float[][] means = columns.floatLists(STATISTICS, "mean", classes * d);
    float[][] variances = columns.floatLists(STATISTICS, "variance", classes * d);
    float[][] covariances = columns.floatLists(STATISTICS, "covariance", classes * d * d);
    if (counts.length != ids.length
        || means.length != ids.length
        || variances.length != ids.length
        || (covariances.length != 0 && covariances.length != ids.length)) {
      throw new InvalidInputException(
          columns.file(),
          "class statistics have "
              + ids.length
              + " class ids but "
              + counts.length
              + " counts, "
              + means.length
              + " means, "
              + variances.length
              + " variances");
    }
    List<ClassStatistics> rows = new ArrayList<>(ids.length);
    for (int i = 0; i < ids.length; i++) {
      float[] covariance = covariances.length == 0 ? new float[0] : covariances[i];
      rows.add(
          ClassStatistics.newBuilder()
              .setClassId((int) ids[i])
              .setCount(counts[i])
              .setMean(FloatArrays.asList(means[i]))
              .setVariance(FloatArrays.asList(variances[i]))
              .setCovariance(covariance.length == 0 ? null : FloatArrays.asList(covariance))
              .build());
    }
    return rows;
  }

  private static UpdateFacts facts(ColumnarFile c) {
    long[] histogram = c.has("labelHistogram") ? c.longs("labelHistogram", 1 << 20) : new long[0];
    Long cluster = c.longValue("cluster");
    Long specVersion = c.longValue("specVersion");
    return new UpdateFacts(
        c.string("updateId", MAX_TEXT),
        c.string("site", MAX_TEXT),
        intValue(c, "round"),
        cluster == null ? 0 : (int) (long) cluster,
        c.string("baseModelVersion", MAX_TEXT),
        c.string("kind", MAX_TEXT),
        intValue(c, "dimension"),
        intValue(c, "classCount"),
        required(c, "numExamples"),
        intValue(c, "localEpochs"),
        intValue(c, "localSteps"),
        requiredDouble(c, "localLoss"),
        requiredDouble(c, "localAccuracy"),
        histogram,
        specVersion == null ? 0 : (int) (long) specVersion,
        required(c, "createdTime"),
        c.doubleValue("holdoutAccuracy"),
        c.string("keyId", MAX_TEXT),
        c.string("signature", MAX_TEXT),
        c.string("encoding", MAX_TEXT),
        new SiteCost(
            c.longValue("downloadBytes"),
            c.longValue("trainCpuMillis"),
            c.longValue("peakMemoryBytes")),
        new LabelAudit(
            c.doubleValue("pseudoLabelAccuracy"),
            c.doubleValue("auditAccuracy"),
            c.doubleValue("auditZeroShotAccuracy")));
  }

  private static long required(ColumnarFile c, String field) {
    Long value = c.longValue(field);
    if (value == null) {
      throw new InvalidInputException(c.file(), "has no value for '" + field + "'");
    }
    return value;
  }

  private static int intValue(ColumnarFile c, String field) {
    long value = required(c, field);
    if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
      throw new InvalidInputException(
          c.file(), "'" + field + "' holds " + value + ", outside the int range");
    }
    return (int) value;
  }

  private static double requiredDouble(ColumnarFile c, String field) {
    Double value = c.doubleValue(field);
    if (value == null) {
      throw new InvalidInputException(c.file(), "has no value for '" + field + "'");
    }
    return value;
  }
}
