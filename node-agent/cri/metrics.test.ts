import * as grpc from '@grpc/grpc-js';
import { NotFoundError } from '../../messages/errors';
import { translateGrpcError } from './client';
import { grpcCode } from './metrics';

describe('grpcCode', () => {
  it('names the gRPC status of a call\'s outcome, through the mk error it was translated to', () => {
    const grpcErr = (code: grpc.status) => Object.assign(new Error('x'), { code, details: 'x', metadata: new grpc.Metadata() });
    expect(grpcCode()).toBe('OK');
    expect(grpcCode(translateGrpcError('ContainerStatus', grpcErr(grpc.status.NOT_FOUND)))).toBe('NOT_FOUND');
    expect(grpcCode(translateGrpcError('RunPodSandbox', grpcErr(grpc.status.DEADLINE_EXCEEDED)))).toBe('DEADLINE_EXCEEDED');
    expect(grpcCode(translateGrpcError('StartContainer', grpcErr(grpc.status.INTERNAL)))).toBe('INTERNAL');
    expect(grpcCode(new NotFoundError('no cause'))).toBe('UNKNOWN');
    expect(grpcCode(new Error('plain'))).toBe('UNKNOWN');
  });
});
