package fedlake.core.round;

import fedlake.core.store.Store;
import java.io.IOException;

/**
 * A round job in a process of its own, for kill -9 tests: {@code RoundJobChild STORE CHECKPOINT}
 * prints "REACHED CHECKPOINT" when the job gets there, then blocks reading stdin until it is
 * killed.
 */
final class RoundJobChild {
  private RoundJobChild() {}

  public static void main(String[] args) throws IOException {
    RoundJob.Checkpoint stop = RoundJob.Checkpoint.valueOf(args[1]);
    RoundResult result =
        new RoundJob(Store.open(args[0]))
            .checkpoints(
                (point, round) -> {
                  if (point == stop) {
                    System.out.println("REACHED " + point);
                    System.out.flush();
                    try {
                      System.in.read(); // the parent never writes: we wait here for SIGKILL
                    } catch (IOException e) {
                      throw new IllegalStateException(e);
                    }
                  }
                })
            .execute();
    System.out.println("DONE " + result.message());
  }
}
