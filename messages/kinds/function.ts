/** The Function kind as messages/ declares it: schema, the columns of `mk get functions` and its describer. */
import type { FunctionObject } from '../function';
import { DEFAULT_MAX_INSTANCES, DEFAULT_MIN_INSTANCES, DEFAULT_TIMEOUT_SECONDS, shortDigest } from '../function-names';
import type { KindInfo } from '../kind';
import { describeFunction } from '../printing/describe-function';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let fnModuleLoaded: typeof import('../function') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const fnModule = () => (fnModuleLoaded ??= require('../function') as typeof import('../function'));

const fn = (o: unknown): FunctionObject => o as FunctionObject;

/** `mk get functions`: NAME RUNTIME HANDLER READY MIN MAX AGE, and CODE and TIMEOUT with `-o wide`. */
export const FunctionKind: KindInfo = {
  apiVersion: 'mk.io/v1',
  kind: 'Function',
  plural: 'functions',
  singular: 'function',
  shortNames: ['fn'],
  namespaced: true,
  get schema() { return fnModule().FunctionSchema; },
  storage: 'store',
  description: 'Code kept in the bus by its content hash, run on a built-in runtime (python3 or node) through a handler or a command, '
    + 'with its limits and how far it scales; called through the gateway (HTTP, a bus request or async), it runs on instance pods scaled from and to zero.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'RUNTIME', value: (o) => fn(o).spec?.runtime ?? '' },
    { name: 'HANDLER', value: (o) => fn(o).spec?.handler ?? fn(o).spec?.command ?? '' },
    { name: 'READY', value: (o) => `${fn(o).status?.readyInstances ?? 0}/${fn(o).status?.instances ?? 0}` },
    { name: 'MIN', value: (o) => String(fn(o).spec?.minInstances ?? DEFAULT_MIN_INSTANCES) },
    { name: 'MAX', value: (o) => String(fn(o).spec?.maxInstances ?? DEFAULT_MAX_INSTANCES) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'CODE', priority: 1, value: (o) => shortDigest(fn(o).spec?.code?.digest) },
    { name: 'TIMEOUT', priority: 1, value: (o) => `${fn(o).spec?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS}s` },
  ],
  describer: { describe: (o, ctx) => describeFunction(fn(o), ctx.events, ctx.now) },
};
