import type { TargetError } from '../../engine/model/report.js';

interface GraphErrorLike {
  statusCode?: number;
  code?: string | null;
  message?: string;
  body?: unknown;
}

/**
 * A Graph SDK error (GraphError carries `statusCode`, `code`, `message`) or a transport error
 * (`ECONNRESET`, ...) as the engine records it against an object.
 */
export function toTargetError(err: unknown): TargetError {
  const e = (err ?? {}) as GraphErrorLike & { cause?: { code?: string } };
  const status = typeof e.statusCode === 'number' && e.statusCode > 0 ? e.statusCode : undefined;
  const code = e.code ?? e.cause?.code ?? (status ? `HTTP${status}` : 'network');
  const message = e.message ?? String(err);
  return { ...(status !== undefined ? { status } : {}), code, message };
}

export function describeTargetError(error: TargetError): string {
  return `${error.status !== undefined ? `${error.status} ` : ''}${error.code}: ${error.message}`;
}
