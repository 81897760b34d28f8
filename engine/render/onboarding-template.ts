/**
 * The onboarding mail template (`users.onboarding.delivery.template`): a first line
 * `Subject: ...`, a blank line, then the plain-text body. `{{name}}`-style placeholders are
 * replaced by the values of one new hire; `{{credential}}` only ever at apply, in memory, on its
 * way into the `sendMail` request. Pure.
 */

export const TEMPLATE_PLACEHOLDERS = [
  'name',
  'upn',
  'credential',
  'startAt',
  'expiresAt',
  'manager',
  'recipient',
] as const;
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

export interface DeliveryTemplate {
  readonly subject: string;
  readonly body: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

export function parseDeliveryTemplate(
  text: string,
): { ok: true; template: DeliveryTemplate } | { ok: false; message: string } {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const first = /^Subject:\s*(.*)$/i.exec(lines[0] ?? '');
  if (!first || (first[1] ?? '').trim() === '') {
    return { ok: false, message: 'the first line must be `Subject: <subject>`' };
  }
  if ((lines[1] ?? '').trim() !== '') {
    return { ok: false, message: 'a blank line must follow the subject line' };
  }
  const template = { subject: (first[1] ?? '').trim(), body: lines.slice(2).join('\n') };
  const unknown = [...`${template.subject}\n${template.body}`.matchAll(PLACEHOLDER)]
    .map((m) => m[1] ?? '')
    .filter((name) => !(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    return {
      ok: false,
      message: `unknown placeholder ${unknown.map((n) => `{{${n}}}`).join(', ')} (known: ${TEMPLATE_PLACEHOLDERS.map((n) => `{{${n}}}`).join(', ')})`,
    };
  }
  if (!/\{\{\s*credential\s*\}\}/.test(template.body)) {
    return {
      ok: false,
      message: 'the body must contain {{credential}}: the mail is how it is delivered',
    };
  }
  if (/\{\{\s*credential\s*\}\}/.test(template.subject)) {
    return {
      ok: false,
      message:
        '{{credential}} belongs in the body, not the subject (subjects are shown in lists and logs)',
    };
  }
  return { ok: true, template };
}

/** The template with every placeholder replaced; one with no value becomes empty. */
export function renderDeliveryTemplate(
  template: DeliveryTemplate,
  values: Readonly<Partial<Record<TemplatePlaceholder, string>>>,
): DeliveryTemplate {
  const fill = (text: string) =>
    text.replace(PLACEHOLDER, (_all, name: string) => values[name as TemplatePlaceholder] ?? '');
  return { subject: fill(template.subject), body: fill(template.body) };
}
