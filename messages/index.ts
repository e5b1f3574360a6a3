/** The contract: schemas, types, subject names, envelopes, error codes. No I/O. */
export * from './api';
export * from './cluster';
export * from './errors';
export * from './event';
export * from './kinds';
export * from './manifest';
export * from './meta';
export * from './names';
export * from './pod';
export * from './quantity';
export * from './subjects';
export * from './selectors';
