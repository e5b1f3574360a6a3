/** The Workflow and WorkflowRun kinds: schemas, validation, data flow and Choice rules. No I/O. */
export * from './schema';
export * from './operators';
export * from './limits';
export * from './errors';
export { validateWorkflowSpec, parseWorkflowSpec } from './validate';
export { workflowSpecErrors, type SpecIssue } from './spec-checks';
export { selectPath, applyInputPath, applyParameters, applyResultSelector, applyResultPath, applyOutputPath, type ContextObject } from './paths';
export { evaluateChoice, evaluateRule } from './choice';
export { canonicalJson } from './canonical-json';
export { compileWorkflowText, WorkflowTextError, MAX_FOR_TIMES } from './minik8s';
