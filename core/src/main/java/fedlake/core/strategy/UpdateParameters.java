package fedlake.core.strategy;

import java.io.Serializable;

/**
 * One accepted update as a strategy sees it, decoded once into primitive arrays.
 *
 * @param site the uploading site
 * @param numExamples local examples, the FedAvg weight (positive, below 2^39)
 * @param localSteps optimizer steps the site ran (FedNova normalises by them)
 * @param parameters trained parameters, laid out as {@code Models.parameters(base)}
 * @param controlDelta SCAFFOLD: change of the site's control variate, same layout; empty otherwise
 */
public record UpdateParameters(
    String site, long numExamples, int localSteps, float[] parameters, float[] controlDelta)
    implements Serializable {}
