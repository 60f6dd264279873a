// The `cephes` package ships types that its "exports" map does not expose; declare what we use.
declare module "cephes" {
  /** Resolves once the WebAssembly module is compiled. */
  export const compiled: Promise<void>;
  /** ln |Γ(x)|. */
  export function lgam(x: number): number;
  const cephes: { compiled: Promise<void>; lgam: (x: number) => number };
  export default cephes;
}
