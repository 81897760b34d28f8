/**
 * `entrasync simulator outbox` (catalogue O13): after a simulator on a state file accepted mails
 * through Graph's sendMail, the command lists time, sender, recipients and subject, never a body
 * unless `--body` asks; JSON likewise; a missing state is an error, not a new empty tenant.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphFor, simulator, tempDir } from '../../simulator/test-helpers/simulator.js';
import { cli } from '../../test/helpers/cli.js';

const PASS = 'Zq8#mK2p';

async function stateWithMail(): Promise<string> {
  const dir = await tempDir();
  const state = join(dir, 'tenant.db');
  const sim = await simulator({
    statePath: state,
    throttling: false,
    seed: {
      users: [
        {
          accountEnabled: true,
          displayName: 'HR',
          mailNickname: 'hr',
          userPrincipalName: 'hr@contoso.example',
          mail: 'hr@contoso.example',
        },
      ],
    },
  });
  await graphFor(sim)
    .api('/users/hr@contoso.example/sendMail')
    .post({
      message: {
        subject: 'Your new hire Cy starts Monday',
        body: { contentType: 'Text', content: `Temporary Access Pass: ${PASS}` },
        toRecipients: [{ emailAddress: { address: 'boss@contoso.example' } }],
        ccRecipients: [{ emailAddress: { address: 'it@contoso.example' } }],
      },
    });
  await sim.close();
  return state;
}

describe('entrasync simulator outbox', () => {
  it('O13: lists time, sender, recipients and subject; bodies only with --body; JSON too', async () => {
    const state = await stateWithMail();
    const text = await cli('simulator', 'outbox', '--state', state);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`1 mail in ${state}`);
    expect(lines[1]).toMatch(
      /^\d{4}-\d{2}-\d{2}T\S+ {2}hr@contoso\.example -> boss@contoso\.example, it@contoso\.example {2}"Your new hire Cy starts Monday"$/,
    );
    expect(text.stdout).not.toContain(PASS);

    const withBody = await cli('simulator', 'outbox', '--state', state, '--body');
    expect(withBody.stdout).toContain(`    Temporary Access Pass: ${PASS}`);

    const json = await cli('simulator', 'outbox', '--state', state, '--format', 'json');
    const parsed = JSON.parse(json.stdout) as { state: string; mails: Record<string, unknown>[] };
    expect(parsed.state).toBe(state);
    expect(parsed.mails).toHaveLength(1);
    expect(parsed.mails[0]).toMatchObject({
      senderAddress: 'hr@contoso.example',
      subject: 'Your new hire Cy starts Monday',
    });
    expect(parsed.mails[0]).not.toHaveProperty('body');
    expect(json.stdout).not.toContain(PASS);
  });

  it('O13: a state that does not exist is an error, and is not created', async () => {
    const missing = join(await tempDir(), 'nothing.db');
    const result = await cli('simulator', 'outbox', '--state', missing);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no simulator state at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });
});
