package fedlake.core.synth;

import java.io.Serializable;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * Pooled statistics of many classes over many sites: one {@link ClassPool} a class. Partial pools
 * merge exactly, so an engine may pool sites in any order and partitioning.
 */
public final class StatisticsPool implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int dimension;
  private final TreeMap<Integer, ClassPool> pools = new TreeMap<>();
  private int contributions;

  public StatisticsPool(int dimension) {
    this.dimension = dimension;
  }

  /**
   * A pool made of per-class pools merged elsewhere (a Spark job), with the number of sites behind
   * them.
   */
  public static StatisticsPool of(int dimension, Collection<ClassPool> pools, int contributions) {
    StatisticsPool pool = new StatisticsPool(dimension);
    pools.forEach(p -> pool.pools.merge(p.classId(), p, ClassPool::merge));
    pool.contributions = contributions;
    return pool;
  }

  /** The per-class pools, by class id; do not modify. */
  public Map<Integer, ClassPool> pools() {
    return pools;
  }

  /** Adds the statistics one site reported (at most one entry a class). */
  public StatisticsPool add(Collection<ClassMoments> site) {
    for (ClassMoments s : site) {
      pools.computeIfAbsent(s.classId(), c -> new ClassPool(c, dimension)).add(s);
    }
    contributions++;
    return this;
  }

  public StatisticsPool merge(StatisticsPool other) {
    other.pools.forEach((c, pool) -> pools.merge(c, pool, ClassPool::merge));
    contributions += other.contributions;
    return this;
  }

  /** Number of sites (statistics lists) added. */
  public int contributions() {
    return contributions;
  }

  public boolean isEmpty() {
    return pools.isEmpty();
  }

  /** Pooled statistics of every class that any site reported, by class id. */
  public Map<Integer, ClassMoments> result() {
    Map<Integer, ClassMoments> result = new TreeMap<>();
    pools.forEach((c, pool) -> result.put(c, pool.result()));
    return result;
  }
}
