/**
 * JSON batching through the real SDK's BatchRequestContent / BatchResponseContent: up to 20
 * requests, dependsOn, 424 on a failed dependency, each item throttled on its own (200 outer,
 * inner 429 with its own Retry-After).
 */
import { BatchRequestContent, BatchResponseContent } from '@microsoft/microsoft-graph-client';
import { describe, expect, test } from 'vitest';
import { createVirtualClock } from './index.js';
import {
  bearer,
  graphFor,
  newUser,
  raw,
  securityGroup,
  simulator,
} from './test-helpers/simulator.js';

/**
 * Node's Request needs an absolute URL; SDK 3.0.7 strips scheme and host but keeps any version
 * segment, and Graph answers an inner `/v1.0/...` URL with "Resource not found for the segment
 * 'v1.0'" (msgraph-sdk-javascript #1178, #1451). So the version is left out here.
 */
function request(method: string, url: string, body?: unknown): Request {
  return new Request(`https://graph.microsoft.com${url}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  });
}

describe('POST /$batch', () => {
  test('runs items, honours dependsOn, answers 424 after a failed dependency', async () => {
    const sim = await simulator({ throttling: false });
    const graph = graphFor(sim);
    const batch = new BatchRequestContent([
      { id: '1', request: request('POST', '/users', newUser(1)) },
      {
        id: '2',
        request: request('GET', '/users/user1@contoso.example?$select=displayName'),
        dependsOn: ['1'],
      },
      { id: '3', request: request('POST', '/users', { displayName: 'x' }), dependsOn: ['2'] },
      { id: '4', request: request('GET', '/groups'), dependsOn: ['3'] },
    ]);
    const content = await batch.getContent();
    const response = new BatchResponseContent(await graph.api('/$batch').post(content));
    const status = (id: string): number | undefined => response.getResponseById(id)?.status;
    expect([status('1'), status('2'), status('3'), status('4')]).toEqual([201, 200, 400, 424]);
    const versioned = new BatchResponseContent(
      await graph
        .api('/$batch')
        .post(
          await new BatchRequestContent([
            { id: 'v', request: new Request('https://graph.microsoft.com/v1.0/groups') },
          ]).getContent(),
        ),
    );
    const body = (await versioned.getResponseById('v')?.json()) as { error: { message: string } };
    expect(body.error.message).toBe("Resource not found for the segment 'v1.0'.");
    const read = (await response.getResponseById('2')?.json()) as Record<string, unknown>;
    expect(read).toMatchObject({ displayName: 'User 1' });
    const failed = (await response.getResponseById('4')?.json()) as { error: { code: string } };
    expect(failed.error.code).toBe('FailedDependency');
    // Each item is logged on its own, marked as part of a batch.
    expect(
      sim.requestLog.filter((e) => e.batch === true).map((e) => `${e.method} ${e.status}`),
    ).toEqual(['POST 201', 'GET 200', 'POST 400', 'GET 400']);
  });

  test('more than 20 requests, duplicate ids and bodies without Content-Type are 400', async () => {
    const sim = await simulator({ throttling: false });
    const authorization = await bearer(sim);
    const post = (body: unknown) =>
      raw(sim, '/v1.0/$batch', {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const many = await post({
      requests: Array.from({ length: 21 }, (_, i) => ({
        id: String(i),
        method: 'GET',
        url: '/users',
      })),
    });
    expect(many.status).toBe(400);
    const dup = await post({
      requests: [
        { id: 'a', method: 'GET', url: '/users' },
        { id: 'A', method: 'GET', url: '/groups' },
      ],
    });
    expect(dup.status).toBe(400);
    const noType = await post({
      requests: [{ id: 'a', method: 'POST', url: '/users', body: newUser(1) }],
    });
    expect(noType.status).toBe(400);
    const ok = await post({
      requests: [
        {
          id: 'a',
          method: 'POST',
          url: 'groups',
          body: securityGroup(1),
          headers: { 'Content-Type': 'application/json' },
        },
      ],
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ responses: [{ id: 'a', status: 201 }] });
  });

  test('items are throttled one by one: 200 outer, inner 429 with Retry-After', async () => {
    const clock = createVirtualClock();
    const sim = await simulator({ clock, throttling: { writesPer150Seconds: 5 } });
    const graph = graphFor(sim);
    const batch = new BatchRequestContent(
      Array.from({ length: 8 }, (_, i) => ({
        id: String(i + 1),
        request: request('POST', '/groups', securityGroup(i)),
      })),
    );
    const outer = await graph.api('/$batch').post(await batch.getContent());
    const response = new BatchResponseContent(outer);
    const statuses = [...response.getResponses().entries()].map(([id, r]) => [id, r.status]);
    expect(statuses).toEqual([
      ['1', 201],
      ['2', 201],
      ['3', 201],
      ['4', 201],
      ['5', 201],
      ['6', 429],
      ['7', 429],
      ['8', 429],
    ]);
    const throttled = response.getResponseById('6');
    // 150 s / 5 writes: the next write unit refills after 30 s.
    expect(throttled?.headers.get('Retry-After')).toBe('30');
    expect(throttled?.headers.get('x-ms-throttle-information')).toBe('WriteLimitExceeded');
    expect(sim.counters.throttled).toBe(3);
    clock.advance(30_000);
    const retry = new BatchResponseContent(
      await graph
        .api('/$batch')
        .post(
          await new BatchRequestContent([
            { id: '6', request: request('POST', '/groups', securityGroup(5)) },
          ]).getContent(),
        ),
    );
    expect(retry.getResponseById('6')?.status).toBe(201);
  });
});
