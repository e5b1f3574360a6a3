/** CRI: the runtime.v1 client the node agent drives containerd with, and its message types. */
export { CriClient, PROTO_LOADER_OPTIONS, translateGrpcError, type CallOptions, type ConnectOptions } from './client';
export type * from './types';
