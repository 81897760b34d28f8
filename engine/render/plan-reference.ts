/**
 * The plan JSON reference for the README, generated from the plan schema (plan-schema.ts) the
 * way the config reference is generated from the config schema, so the docs cannot drift from
 * what `plan --out` writes. The README holds it between `<!-- plan-reference:start -->` and
 * `<!-- plan-reference:end -->`; `replacePlanReference` rewrites that span.
 */
import { PlanDocumentSchema } from './plan-schema.js';

export const PLAN_REFERENCE_START = '<!-- plan-reference:start -->';
export const PLAN_REFERENCE_END = '<!-- plan-reference:end -->';

/** A JSON Schema node as TypeBox builds it (only what the reference reads). */
interface Node {
  readonly type?: string;
  readonly const?: unknown;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, Node>>;
  readonly required?: readonly string[];
  readonly patternProperties?: Readonly<Record<string, Node>>;
  readonly items?: Node;
  readonly anyOf?: readonly Node[];
}

interface Row {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly description: string;
}

export function renderPlanReference(): string {
  const rows: Row[] = [];
  const root = PlanDocumentSchema as Node;
  const seen = new Map<Node, string>();
  for (const [key, node] of Object.entries(root.properties ?? {}))
    walk(node, key, root.required?.includes(key) ?? false, '', rows, seen);
  const out = [
    '<!-- Generated from engine/render/plan-schema.ts by renderPlanReference(): edit the schema, not this text. -->',
    '',
    `The JSON \`plan --out\` writes and \`apply\` and \`show\` read, published as [\`plan.schema.json\`](plan.schema.json) (JSON Schema draft-07; objects are closed). \`summary\` is computed when the plan is written and is not part of the fingerprint.`,
    '',
    '| Key | Type | Required | Description |',
    '|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${[`\`${r.path}\``, r.type, r.required ? 'yes' : 'no', r.description].map(cell).join(' | ')} |`,
    ),
  ];
  return `${out.join('\n')}\n`;
}

/**
 * Rows for `node` at `path` and below. A union of objects lists the fields all variants share
 * once and each variant's own fields with the condition that selects it; a schema met before
 * (a change inside `blocked[]`) points to where it was listed.
 */
function walk(
  node: Node,
  path: string,
  required: boolean,
  condition: string,
  rows: Row[],
  seen: Map<Node, string>,
): void {
  const listedAt = seen.get(node);
  const when = condition ? ` (${condition})` : '';
  if (listedAt !== undefined) {
    rows.push({ path, type: typeOf(node), required, description: `as \`${listedAt}\`${when}` });
    return;
  }
  if (node.properties || (node.anyOf && node.anyOf.some((v) => v.properties))) seen.set(node, path);
  rows.push({
    path,
    type: typeOf(node),
    required,
    description: `${node.description ?? ''}${when}`,
  });
  if (node.items && (node.items.properties || node.items.anyOf?.some((v) => v.properties))) {
    walk(node.items, `${path}[]`, true, '', rows, seen);
    return;
  }
  if (node.properties) {
    for (const [key, child] of Object.entries(node.properties))
      walk(child, `${path}.${key}`, node.required?.includes(key) ?? false, '', rows, seen);
    return;
  }
  const variants = node.anyOf?.filter((v) => v.properties) ?? [];
  if (variants.length < 2) return;
  const shared = Object.keys(variants[0]?.properties ?? {}).filter((key) =>
    variants.every((v) => same(v.properties?.[key], variants[0]?.properties?.[key])),
  );
  for (const key of shared) {
    const first = variants[0] as Node;
    walk(
      first.properties?.[key] as Node,
      `${path}.${key}`,
      first.required?.includes(key) ?? false,
      '',
      rows,
      seen,
    );
  }
  for (const variant of variants) {
    const selector = Object.entries(variant.properties ?? {}).find(
      ([key, p]) => !shared.includes(key) && constants(p),
    );
    const which = selector ? `when \`${selector[0]}\` is ${constants(selector[1])}` : '';
    for (const [key, child] of Object.entries(variant.properties ?? {})) {
      if (shared.includes(key)) continue;
      const condition = key === selector?.[0] ? '' : which;
      walk(
        child,
        `${path}.${key}`,
        variant.required?.includes(key) ?? false,
        condition,
        rows,
        seen,
      );
    }
  }
}

/** `a`, `b` for a constant or a union of constants; undefined otherwise. */
function constants(node: Node): string | undefined {
  const values =
    node.const !== undefined
      ? [node.const]
      : node.anyOf?.every((v) => v.const !== undefined)
        ? node.anyOf.map((v) => v.const)
        : undefined;
  return values?.map((v) => `\`${String(v)}\``).join(', ');
}

function typeOf(node: Node): string {
  const fixed = constants(node);
  if (fixed !== undefined) return node.const !== undefined ? fixed : `one of ${fixed}`;
  if (node.anyOf) {
    return node.anyOf.some((v) => v.properties) ? 'object' : node.anyOf.map(typeOf).join(' or ');
  }
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'any'}`;
  if (node.patternProperties) {
    const values = Object.values(node.patternProperties)[0];
    return `map of ${values ? typeOf(values) : 'any'}`;
  }
  return node.type ?? 'any';
}

function same(a: Node | undefined, b: Node | undefined): boolean {
  return a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Replaces the text between the reference markers; throws if the markers are missing. */
export function replacePlanReference(
  markdown: string,
  reference: string = renderPlanReference(),
): string {
  const start = markdown.indexOf(PLAN_REFERENCE_START);
  const end = markdown.indexOf(PLAN_REFERENCE_END);
  if (start < 0 || end < 0 || end < start) {
    throw new Error(
      `expected ${PLAN_REFERENCE_START} followed by ${PLAN_REFERENCE_END} in the Markdown`,
    );
  }
  const before = markdown.slice(0, start + PLAN_REFERENCE_START.length);
  return `${before}\n\n${reference.trimEnd()}\n\n${markdown.slice(end)}`;
}
