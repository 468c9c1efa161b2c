/**
 * Server-side preparation from what a federation may share without raw data: class statistics
 * reported by sites (exact pooling, Gaussian sampling), class text embeddings (zero-shot heads,
 * samples around each class), synthetic embedding tables with their provenance, and classifier
 * calibration on virtual features (CCVR). Engine-neutral: the Spark job in {@code fedlake.jobs}
 * only distributes this work. See docs/synthetic.md.
 */
package fedlake.core.synth;
