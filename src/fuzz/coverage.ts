/**
 * Coverage for the fuzzer (DESIGN.md "Coverage for the fuzzer"). An input is kept when it reaches a
 * feature no kept input reached, so features are cheap, deterministic strings from two sources:
 *   coverage-model.ts  model-level features: the path each op took (ModelFeatures);
 *   coverage-code.ts   code coverage of the model from the instrumented build (BranchCoverage:
 *                      functions and branch arms, with hit-count buckets), built by instrument.ts;
 *   coverage-v8.ts     the same idea through V8's block coverage (CodeCoverage), kept for comparison.
 */
export { bucket, ModelFeatures } from './coverage-model';
export { BranchCoverage, isEdgeFeature, type CodeFeatures } from './coverage-code';
export { CodeCoverage, type CodeCoverageOptions } from './coverage-v8';
