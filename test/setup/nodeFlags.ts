/**
 * Node's flags for the test workers (vitest.config.ts) and for the processes tests start
 * (test/helpers/processes.ts). The suite keeps both cores of a 2-core machine busy with its two
 * workers, so:
 * - `--single-threaded`: V8 without background threads (concurrent compilation, marking,
 *   sweeping), which only competed with the workers for the cores: the suite took 13% less CPU
 *   (vitest run 382 s → 337 s);
 * - `--initial-old-space-size=512`: the old generation starts large, so a run's many short-lived
 *   arrays promoted from the young generation trigger fewer full collections of a worker's heap
 *   (≈ 100 MB live): 3–5% less CPU on the whole-dataset files, 2–3% for a `fedseq run`.
 * Neither changes what runs or its results.
 */
export const NODE_FLAGS: readonly string[] = ["--single-threaded", "--initial-old-space-size=512"];
