package fedlake.core.numeric;

/**
 * The one switch of fedlake's Vector API code (the round's exact sums, the edge trainer's kernels):
 * it may run when the JVM has {@code jdk.incubator.vector} ({@code --add-modules}) and the system
 * property {@code fedlake.vector} is not {@code false}. Each user still checks that this JVM's
 * vectors are wide enough, loading its vector class only then.
 */
public final class VectorSupport {
  private VectorSupport() {}

  public static boolean requested() {
    return !"false".equals(System.getProperty("fedlake.vector"))
        && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
  }

  /**
   * Whether vector code may run here: {@link #requested()} and {@code wideEnough} (a check that
   * loads the user's vector class, so it is called only when the module is there) holds.
   */
  public static boolean usable(java.util.function.BooleanSupplier wideEnough) {
    if (!requested()) {
      return false;
    }
    try {
      return wideEnough.getAsBoolean();
    } catch (LinkageError e) {
      return false;
    }
  }
}
