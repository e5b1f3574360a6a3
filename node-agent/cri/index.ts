/** CRI: the runtime.v1 client the node agent drives containerd with, and its message types. */
export { CriClient, PROTO_LOADER_OPTIONS, translateGrpcError, type CallOptions, type CallRecord, type ConnectOptions } from './client';
export {
  CRI_CALL_POLICY, DEFAULT_LANE_LIMITS, type CriCallPolicy, type CriLane, type CriLaneLimits, type CriRpc,
} from './call-policy';
export { CallLimiter, type LimiterStats } from './limiter';
export type * from './types';
