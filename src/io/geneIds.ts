/**
 * Gene ids with a version suffix (Ensembl's `ENSG00000141510.16`, RefSeq's `NM_000014.5`):
 * centers annotated with different releases list the same gene under different versions.
 */

const VERSIONED = /^(.+)\.\d+$/;

/** The id without its version suffix (`ENSG00000141510.16` → `ENSG00000141510`). */
export function stripGeneVersion(id: string): string {
  const match = VERSIONED.exec(id);
  return match === null ? id : match[1];
}

/**
 * When the ids `missing` from one list all appear in `other` once version suffixes are
 * stripped, the hint to give (with an example pair); else "".
 */
export function versionSuffixHint(missing: readonly string[], other: readonly string[]): string {
  if (missing.length === 0) return "";
  const byStripped = new Map<string, string>();
  for (const id of other) byStripped.set(stripGeneVersion(id), id);
  const first = byStripped.get(stripGeneVersion(missing[0]));
  if (first === undefined || first === missing[0]) return "";
  if (!missing.every((id) => byStripped.has(stripGeneVersion(id)))) return "";
  return ` (the ids differ only by their version suffix, e.g. ${missing[0]} and ${first}: pass --strip-version)`;
}
