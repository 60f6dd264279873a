/**
 * Messages between threads move their typed arrays' buffers instead of copying them: used by the
 * gene pool's workers and by the worker-threads transport.
 */

/** The distinct ArrayBuffers of the typed arrays of a message (moved, not copied). */
export function transferables(value: unknown): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const visit = (v: unknown): void => {
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer) buffers.add(v.buffer);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(value);
  return [...buffers];
}
