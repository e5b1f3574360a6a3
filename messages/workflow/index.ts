/** The Workflow and WorkflowRun kinds: schemas, validation, data flow, Choice rules and MiniK8s's workflow language. No I/O. */
export * from './schema';
export * from './workflow';
export * from './run';
export * from './operators';
export * from './limits';
export * from './errors';
export { validateWorkflowSpec, parseWorkflowSpec } from './validate';
export { workflowSpecErrors, type SpecIssue } from './spec-checks';
export { selectPath, applyInputPath, applyParameters, applyResultSelector, applyResultPath, applyOutputPath, type ContextObject } from './paths';
export { evaluateChoice, evaluateRule, wildcard } from './choice';
export { canonicalJson } from './canonical-json';
export { loopsWithoutExit, unreachableStates } from './graph';
export { jsonPathError, parseReferencePath, readPath, referencePathError, type PathSegment } from './jsonpath';
export { parseTimestamp } from './timestamp';
export { compileWorkflowText, WorkflowTextError, MAX_FOR_TIMES } from './minik8s';
