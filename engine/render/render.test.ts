/** Renderer text is snapshotted (style: snapshots only for large strings); plans are compared as data elsewhere. */
import { describe, expect, it } from 'vitest';
import { aPerson, aSnapshot, aSpec, anAccount } from '../../test/helpers/builders.js';
import { computePlan } from '../pipeline/plan.js';
import { renderPlanMarkdown } from './markdown.js';
import { renderPlanText, summaryLine } from './text.js';

async function samplePlan() {
  const kept = anAccount(
    'ada.lovelace@contoso.com',
    {
      employeeId: '1',
      displayName: 'Ada Lovelace',
      department: 'Research',
      mailNickname: 'ada.lovelace',
    },
    { id: 'id-ada' },
  );
  const left = anAccount('alan.turing@contoso.com', { employeeId: '2' }, { id: 'id-alan' });
  const admin = anAccount('admin@contoso.com', {}, { managed: false, id: 'id-admin' });
  return computePlan(
    aSpec({ safety: { minSourceRatio: 0.5 } }),
    [
      aSnapshot([
        aPerson('1', 'Ada', 'Lovelace'),
        aPerson('3', 'Grace', 'Hopper', { department: 'Navy | <b>' }),
      ]),
    ],
    { users: [kept, left, admin] },
  );
}

describe('renderers', () => {
  it('text', async () => {
    const text = renderPlanText(await samplePlan());
    expect(text.replace(/Plan [0-9a-f]{12}/, 'Plan <fp>')).toMatchInlineSnapshot(`
      "Sources
        hr (csv): complete, 2 records

      Tenant: 2 account(s) managed by this config; 1 other account(s) left alone

      Will apply (3)
        + create  grace.hopper@contoso.com  [new person · hr:3 (hr.csv:3)]
            accountEnabled: true
            department: "Navy | <b>"
            displayName: "Grace Hopper"
            employeeId: "3"
            mailNickname: "grace.hopper"
            onPremisesExtensionAttributes.extensionAttribute15: "entrasync"
            userPrincipalName: "grace.hopper@contoso.com"
        ~ update  ada.lovelace@contoso.com  [attribute drift · hr:1 (hr.csv:2)]
            department: "Research" -> "Sales"
        - disable alan.turing@contoso.com  [left the sources]
            disable alan.turing@contoso.com: no person in the sources has anchor "2"
            onPremisesExtensionAttributes.extensionAttribute14: the time of the apply (the disable date stages count from)
            and revoke sign-in sessions

      Left alone (1): admin@contoso.com (unmanaged)

      protect-lift check not run: no baseline (--baseline <git-ref>)

      Plan <fp>: 1 to create, 1 to update, 1 to disable.
      "
    `);
  });

  it('an empty plan with record errors does not say the tenant matches the configuration', async () => {
    const plan = await samplePlan();
    const empty = { ...plan, changes: [], blocked: [] };
    expect(summaryLine(empty)).toMatch(/no changes\. The tenant matches the configuration\.$/);
    const withErrors = {
      ...empty,
      issues: [
        { severity: 'error' as const, code: 'domain.unverified', message: 'x', source: 'hr' },
        { severity: 'warning' as const, code: 'w', message: 'y', source: 'hr' },
      ],
    };
    expect(summaryLine(withErrors)).toMatch(
      /no changes, but 1 problem\(s\) above keep people out of the plan; the tenant does not match/,
    );
  });

  it('markdown escapes table and markup characters from source data', async () => {
    const md = renderPlanMarkdown(await samplePlan());
    expect(md).toContain('Navy \\| &lt;b&gt;');
    expect(md.replace(/`[0-9a-f]{12}`/, '`<fp>`')).toMatchInlineSnapshot(`
      "<!-- entrasync-plan -->

      ### entrasync plan \`<fp>\`

      :memo: 3 change(s) to apply

      | | count |
      |---|---:|
      | Create | 1 |
      | Update | 1 |
      | Disable | 1 |
      | Managed accounts | 2 |
      | Left alone | 1 |

      **Sources:** \`hr\` (csv) complete, 2 records

      <details><summary><b>Create</b> (1)</summary>

      | account | why | details |
      |---|---|---|
      | \`grace.hopper@contoso.com\` | new person · hr:3 (hr.csv:3) | accountEnabled: \`true\`<br>department: \`"Navy \\| &lt;b&gt;"\`<br>displayName: \`"Grace Hopper"\`<br>employeeId: \`"3"\`<br>mailNickname: \`"grace.hopper"\`<br>onPremisesExtensionAttributes.extensionAttribute15: \`"entrasync"\` |

      </details>

      <details><summary><b>Update</b> (1)</summary>

      | account | why | details |
      |---|---|---|
      | \`ada.lovelace@contoso.com\` | attribute drift · hr:1 (hr.csv:2) | department: \`"Research"\` → \`"Sales"\` |

      </details>

      <details><summary><b>Disable</b> (1)</summary>

      | account | why | details |
      |---|---|---|
      | \`alan.turing@contoso.com\` | left source | disable alan.turing@contoso.com: no person in the sources has anchor "2"<br>onPremisesExtensionAttributes.extensionAttribute14: the time of the apply (the disable date stages count from)<br>and revoke sign-in sessions |

      </details>

      <sub>protect-lift check not run: no baseline (--baseline &lt;git-ref&gt;)</sub>
      "
    `);
  });
});
