/**
 * The Graph trace middleware alone (graph-trace.ts): what a trace holds for an answer and for
 * no answer, and what it never holds (the Authorization header, bodies, read cursors).
 */
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { describe, expect, it } from 'vitest';
import type { GraphRequestTrace } from './graph-trace.js';
import { GraphTraceHandler, tracePath } from './graph-trace.js';

function chain(next: Middleware['execute']): {
  handler: GraphTraceHandler;
  traces: GraphRequestTrace[];
} {
  const traces: GraphRequestTrace[] = [];
  let t = 100;
  const handler = new GraphTraceHandler(
    (trace) => traces.push(trace),
    () => (t += 7),
  );
  handler.setNext({ execute: next });
  return { handler, traces };
}

describe('GraphTraceHandler', () => {
  it('an answer: method, path, status, duration, request-id and client-request-id; no header or body', async () => {
    const { handler, traces } = chain(async (context) => {
      context.response = new Response('{"value":[]}', {
        status: 200,
        headers: { 'request-id': 'r-1', 'x-secret-echo': 'nope' },
      });
    });
    const context: Context = {
      request: 'https://graph.example/v1.0/users/a@contoso.com?$select=id',
      options: {
        method: 'PATCH',
        headers: { Authorization: 'Bearer eyJtoken', 'client-request-id': 'c-1' },
        body: '{"passwordProfile":{"password":"Hunter2!"}}',
      },
    };
    await handler.execute(context);
    expect(traces).toEqual([
      {
        method: 'PATCH',
        path: '/v1.0/users/a@contoso.com?$select=id',
        status: 200,
        durationMs: 7,
        requestId: 'r-1',
        clientRequestId: 'c-1',
      },
    ]);
    const text = JSON.stringify(traces);
    expect(text).not.toContain('eyJtoken');
    expect(text).not.toContain('Hunter2');
    expect(text).not.toContain('nope');
  });

  it('no answer: the error, no status, and the error still reaches the caller', async () => {
    const { handler, traces } = chain(async () => {
      throw new TypeError('fetch failed\nat somewhere');
    });
    await expect(
      handler.execute({ request: 'https://graph.example/v1.0/users', options: { method: 'get' } }),
    ).rejects.toThrow('fetch failed');
    expect(traces).toEqual([
      { method: 'GET', path: '/v1.0/users', durationMs: 7, error: 'TypeError: fetch failed' },
    ]);
  });

  it('a failing observer does not fail the request', async () => {
    const handler = new GraphTraceHandler(() => {
      throw new Error('log broke');
    });
    handler.setNext({
      execute: async (context) => {
        context.response = new Response(null, { status: 204 });
      },
    });
    const context: Context = { request: 'https://graph.example/v1.0/users', options: {} };
    await handler.execute(context);
    expect(context.response?.status).toBe(204);
  });
});

describe('tracePath', () => {
  it('elides read cursors, keeps the rest of the query', () => {
    expect(tracePath('https://graph.example/v1.0/users/delta?$deltatoken=abc123&$select=id')).toBe(
      '/v1.0/users/delta?$deltatoken=…&$select=id',
    );
    expect(tracePath('https://graph.example/v1.0/users?$top=999&$skiptoken=X%2BY')).toBe(
      '/v1.0/users?$top=999&$skiptoken=…',
    );
    expect(tracePath('/v1.0/users')).toBe('/v1.0/users');
  });
});
