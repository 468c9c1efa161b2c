package fedlake.core.round;

import java.io.Serializable;

/** An update file found in a round's folder. */
public record UpdateFile(String uri, long bytes) implements Serializable {}
