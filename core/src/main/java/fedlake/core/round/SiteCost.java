package fedlake.core.round;

import java.io.Serializable;

/**
 * What one round cost a site, as its update reports it (each null when the runner did not say):
 * bytes read from the store, CPU time of local training, peak memory of its process.
 */
public record SiteCost(Long downloadBytes, Long trainCpuMillis, Long peakMemoryBytes)
    implements Serializable {
  public static final SiteCost UNKNOWN = new SiteCost(null, null, null);
}
