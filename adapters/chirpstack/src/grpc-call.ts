import * as grpc from '@grpc/grpc-js';
import { AdapterError, type AdapterOperation } from '@joinery/core';

/** gRPC codes worth retrying: the server is overloaded, restarting or slow. */
const RETRYABLE = new Set<grpc.status>([grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED, grpc.status.DEADLINE_EXCEEDED, grpc.status.ABORTED]);

type UnaryMethod<Req, Res> = (request: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response?: Res) => void) => grpc.ClientUnaryCall;

/**
 * One unary call as a promise: the Bearer token in the metadata, a deadline, cancelled when
 * `signal` aborts; a gRPC failure becomes an AdapterError (status = the code's name).
 */
export function unary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  what: { readonly operation: AdapterOperation; readonly apiKey: string; readonly timeoutMs: number; readonly signal: AbortSignal },
): Promise<Res> {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${what.apiKey}`);
  return new Promise<Res>((resolve, reject) => {
    const call = method(request, metadata, { deadline: Date.now() + what.timeoutMs }, (error, response) => {
      what.signal.removeEventListener('abort', onAbort);
      if (error) reject(toAdapterError(error, what.operation));
      else if (response === undefined) reject(new Error(`chirpstack ${what.operation}: an answer without a message`));
      else resolve(response);
    });
    const onAbort = (): void => call.cancel();
    what.signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function grpcCode(err: unknown): grpc.status | null {
  return err instanceof AdapterError && typeof err.status === 'string' ? ((grpc.status as unknown as Record<string, grpc.status>)[err.status] ?? null) : null;
}

function toAdapterError(error: grpc.ServiceError, operation: AdapterOperation): AdapterError {
  const name = grpc.status[error.code] ?? String(error.code);
  return new AdapterError({
    vendor: 'chirpstack',
    operation,
    status: name,
    retryable: RETRYABLE.has(error.code),
    // details is ChirpStack's own text (e.g. "Object does not exist"); never request content.
    message: error.details || 'no details',
    cause: error,
  });
}
