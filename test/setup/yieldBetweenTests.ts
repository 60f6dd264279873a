/**
 * Give the test worker's event loop one macrotask after every test. Vitest runs a file's tests
 * back to back on promises alone, so tests that each compute or spawn synchronously for a few
 * seconds add up to one long block; past 60 s the worker's RPC to the runner times out
 * ("Timeout calling onTaskUpdate") and the run fails although every test passed. Measured: 40
 * consecutive `fit-lfc` spawns held one worker for 83 s.
 */
import { afterEach } from "vitest";

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
