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

/**
 * glibc's malloc setting for the same processes, in their environment (`GLIBC_TUNABLES`, read
 * when a process starts; vitest.config.ts gives it to the workers, whose children inherit it):
 * malloc asks the kernel for transparent huge pages (`madvise`) for the blocks it maps, which
 * are a run's large typed arrays. Touching a fresh 2 MB huge page is one page fault instead of
 * 512, and the TLB covers more of the arrays: the whole suite took 8% less CPU (627 → 576 s;
 * page faults 11 M → 5.7 M), an in-process li_lncap run 4.2 → 3.8 s. Where the kernel gives
 * huge pages to every process anyway, or to none, or the C library is not glibc (which ignores
 * unknown tunables, as other C libraries ignore the variable), nothing changes, results never do.
 */
export const MALLOC_HUGE_PAGES = "glibc.malloc.hugetlb=1";

/** `GLIBC_TUNABLES` with {@link MALLOC_HUGE_PAGES} added to the tunables already set, if any. */
export function withMallocHugePages(tunables: string | undefined): string {
  const set = (tunables ?? "").split(":").filter((t) => t !== "");
  const others = set.filter((t) => !t.startsWith("glibc.malloc.hugetlb="));
  return [...others, MALLOC_HUGE_PAGES].join(":");
}
