// Node runs WebAssembly, but its types live in TypeScript's DOM library, which this project does
// not load (it is not a browser library); declare the little of the JS API that math/ring128.ts
// uses, as the WebAssembly JavaScript Interface specifies it.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, never>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
