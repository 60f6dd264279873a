/**
 * fedseq's library API: federated DESeq2-style fits of RNA-seq counts across institutions.
 *
 * @example
 * ```js
 * import { fitLfc, DEFAULT_HYPERPARAMETERS } from "fedseq";
 * const report = await fitLfc({ dataDir: "data/bodymap", design: "~ tissue", ... });
 * ```
 */
export { DEFAULT_HYPERPARAMETERS, type FitHyperparameters } from "./algorithms/hyperparameters.js";
export { computeLfc, type LfcMode, type LfcResult } from "./algorithms/lfc/computeLfc.js";
export { type CenterData, type CenterSource, loadCenterData } from "./federation/centerData.js";
export { CenterSession } from "./federation/centerSession.js";
export { GrpcAggregator, type GrpcAggregatorOptions } from "./federation/grpc/aggregatorServer.js";
export {
  type AgentOutcome,
  type CenterAgentOptions,
  runCenterAgent,
} from "./federation/grpc/centerAgent.js";
export { makeTrialCertificates } from "./federation/grpc/certificates.js";
export { InProcessTransport } from "./federation/inProcess.js";
export { FederationRunner, type RunLedger } from "./federation/runner.js";
export {
  CenterError,
  type CenterInfo,
  FederationFailure,
  type Transport,
} from "./federation/transport.js";
export { WorkerThreadsTransport } from "./federation/workerThreads.js";
export { bundledBodymap } from "./io/bundled.js";
export { type Dataset, type ReadDatasetOptions, readDataset } from "./io/dataset.js";
export { InputError } from "./io/errors.js";
export {
  type FitLfcJob,
  type FitOutcome,
  fitLfc,
  fitOverFederation,
  type RunReport,
  type SimulatedFitLfcJob,
  simulatedCenters,
  writeFitOutputs,
} from "./pipeline/fitLfc.js";
export {
  analyseSimulated,
  type RunJob,
  type RunJson,
  type RunOutcome,
  runOverFederation,
  runSimulated,
  type SimulatedAnalysis,
  type SimulatedRunJob,
  type SimulatedRunOptions,
  simulatedRunJob,
  writeRunOutputs,
} from "./pipeline/run.js";
export {
  type ReportInput,
  type ReportSamples,
  renderReport,
  writeReport,
} from "./reports/html.js";
export { type Contrast, type ContrastSpec, parseContrast } from "./results/contrast.js";
export { type CohortOptions, writeCohort } from "./simulate/cohort.js";
