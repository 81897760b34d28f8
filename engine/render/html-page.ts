/**
 * The shell of entrasync's HTML pages (the plan, the report): one self-contained file, safe to
 * attach to a CI run or open from disk.
 *
 * Contract: no network. Styles and the one filter script are inline, and the page's Content
 * Security Policy allows nothing else (`default-src 'none'`, the script by its hash): a value
 * that smuggles markup in is escaped text (escapeHtml), and even if it were not, it could neither
 * load nor run anything.
 *
 * The filter: every word typed into `#filter` must occur in an element's `data-search`
 * (`.filterable`); each `.filter-group` counts what it shows in its `.count` and hides when
 * nothing matches; `#shown` says how many of all are shown.
 */
import { createHash } from 'node:crypto';

/** Text made safe for element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The page: `title` is text (escaped here), `body` is markup the caller escaped. */
export function htmlPage(title: string, body: string): string {
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; base-uri 'none'; form-action 'none'`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The filter box and its "N of M shown" line; `noun` names what is counted. */
export function filterBox(total: number, noun: string, placeholder: string): string {
  if (total === 0) return '';
  return `<p class="filter"><label for="filter">Filter</label> <input id="filter" type="search" autocomplete="off" placeholder="${escapeHtml(placeholder)}"> <output id="shown" for="filter" data-noun="${escapeHtml(noun)}">${total} of ${total} ${escapeHtml(noun)} shown</output></p>`;
}

const STYLE = [
  'body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1b1f24;max-width:80rem}',
  'h1{font-size:1.4rem;margin:0}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}',
  '.verdict{font-weight:600}',
  'table{border-collapse:collapse;width:100%;margin:.3rem 0}',
  'th,td{border-bottom:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}',
  'td.n{text-align:right;font-variant-numeric:tabular-nums}',
  'table.counts{width:auto}',
  '.panel{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.2rem 1rem;margin:1rem 0}',
  '.held{background:#fff8c5;border-color:#d4a72c}',
  '.status-failed td{color:#cf222e;font-weight:600}.status-incomplete td{color:#9a6700}',
  'details summary{cursor:pointer}details ul{margin:.3rem 0;padding-left:1.2rem;font-family:ui-monospace,monospace;font-size:12px}',
  '.filter input{width:28rem;max-width:100%;padding:.3rem}',
  '.hidden{display:none}',
  'svg.chart{max-width:100%;height:auto;font:11px system-ui,sans-serif}',
  '.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-1px}',
].join('');

const SCRIPT = [
  '(function(){',
  "var box=document.getElementById('filter');if(!box)return;",
  "var out=document.getElementById('shown');var noun=out.getAttribute('data-noun');",
  "var items=[].slice.call(document.querySelectorAll('.filterable'));",
  "var groups=[].slice.call(document.querySelectorAll('.filter-group'));",
  'function apply(){',
  'var words=box.value.toLowerCase().split(/\\s+/).filter(Boolean);var shown=0;',
  "items.forEach(function(r){var s=r.getAttribute('data-search');",
  'var ok=words.every(function(w){return s.indexOf(w)>=0});',
  "r.classList.toggle('hidden',!ok);if(ok)shown++});",
  "groups.forEach(function(g){var n=g.querySelectorAll('.filterable:not(.hidden)').length;",
  "var c=g.querySelector('.count');if(c)c.textContent=String(n);g.classList.toggle('hidden',n===0)});",
  "out.textContent=shown+' of '+items.length+' '+noun+' shown'}",
  "box.addEventListener('input',apply);",
  '})();',
].join('');

const SCRIPT_HASH = createHash('sha256').update(SCRIPT, 'utf8').digest('base64');
