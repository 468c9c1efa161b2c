package fedlake.core.client;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;

/** Measures what a round costs a site: CPU time of its training thread and peak memory. */
public final class SiteCosts {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private SiteCosts() {}

  /** CPU time the calling thread has used, nanoseconds; 0 where the JVM cannot tell. */
  public static long threadCpuNanos() {
    return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : 0;
  }

  /**
   * Peak resident memory of this process (Linux: {@code VmHWM} of /proc/self/status); elsewhere the
   * JVM's peak heap (the sum of its heap pools' peaks).
   */
  public static long peakMemoryBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          String[] parts = line.substring(6).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024; // reported in kB
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: fall through to the heap's peak
    }
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    return peak;
  }
}
