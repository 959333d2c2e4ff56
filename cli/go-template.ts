/**
 * The part of Go's text/template that docker's `--format` is used with: `{{.Field.Sub}}`, `{{.}}`,
 * pipelines with docker's functions (`json`, `join`, `split`, `upper`, `lower`, `title`,
 * `truncate`, `pad`, `println`) and a few of Go's (`len`, `index`, `printf`, `eq`, `ne`, `not`),
 * `if`/`else`/`range`/`end`, `{{-`/`-}}` trimming, and docker's `table` prefix and `\t`/`\n`
 * escapes. Values print as Go's %v prints decoded JSON (`[a b]`, `map[k:v]`, `<nil>`). Variables,
 * `with`, `define` and parentheses are not there: such a template is refused in one line.
 */
import { NestboxError } from '../lib/errors.js';

type Token = { kind: 'field'; path: string[] } | { kind: 'dot' } | { kind: 'ident'; name: string } | { kind: 'literal'; value: unknown } | { kind: 'pipe' };
type Command = Token[];
type Pipeline = Command[];
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] };

const bad = (why: string) => new NestboxError('INVALID_ARGUMENT', `template: ${why}`);

/** Parses a format (docker's escapes applied): throws one line naming what is wrong. */
export function parseTemplate(format: string): Template {
  const src = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const pieces: ({ text: string } | { action: string })[] = [];
  let at = 0;
  while (at < src.length) {
    const open = src.indexOf('{{', at);
    if (open < 0) { pieces.push({ text: src.slice(at) }); break; }
    const close = src.indexOf('}}', open + 2);
    if (close < 0) throw bad(`unclosed action at offset ${open}`);
    let text = src.slice(at, open);
    let inner = src.slice(open + 2, close);
    if (/^-\s/.test(inner)) { text = text.trimEnd(); inner = inner.slice(2); }
    pieces.push({ text });
    let trimNext = false;
    if (/\s-$/.test(inner)) { inner = inner.slice(0, -2); trimNext = true; }
    pieces.push({ action: inner.trim() });
    at = close + 2;
    if (trimNext) while (at < src.length && /\s/.test(src[at])) at++;
  }
  const [nodes, end] = parseNodes(pieces, 0, []);
  if (end < pieces.length) throw bad(`unexpected {{${(pieces[end] as { action: string }).action}}}`);
  return new Template(nodes);
}

function parseNodes(pieces: ({ text: string } | { action: string })[], from: number, stops: string[]): [Node[], number] {
  const nodes: Node[] = [];
  let i = from;
  while (i < pieces.length) {
    const p = pieces[i];
    if ('text' in p) { if (p.text) nodes.push({ kind: 'text', text: p.text }); i++; continue; }
    const word = p.action.split(/\s+/)[0];
    if (stops.includes(word)) return [nodes, i];
    if (word === 'if' || word === 'range') {
      const pipe = parsePipeline(p.action.slice(word.length));
      const [body, at] = parseNodes(pieces, i + 1, ['else', 'end']);
      let otherwise: Node[] = [];
      let next = at;
      if (next >= pieces.length) throw bad(`{{${word}}} without {{end}}`);
      if ((pieces[next] as { action: string }).action === 'else') {
        [otherwise, next] = parseNodes(pieces, next + 1, ['end']);
        if (next >= pieces.length) throw bad(`{{${word}}} without {{end}}`);
      }
      if ((pieces[next] as { action: string }).action !== 'end') throw bad(`unexpected {{${(pieces[next] as { action: string }).action}}}`);
      nodes.push({ kind: word, pipe, body, otherwise });
      i = next + 1;
      continue;
    }
    if (['else', 'end', 'with', 'define', 'template', 'block'].includes(word)) throw bad(`{{${word}}} is not supported here`);
    if (p.action.startsWith('/*')) { i++; continue; }
    nodes.push({ kind: 'action', pipe: parsePipeline(p.action) });
    i++;
  }
  return [nodes, i];
}

function parsePipeline(text: string): Pipeline {
  const tokens = tokenize(text);
  const pipe: Pipeline = [[]];
  for (const t of tokens) {
    if (t.kind === 'pipe') pipe.push([]);
    else pipe[pipe.length - 1].push(t);
  }
  if (pipe.some((c) => c.length === 0)) throw bad(`missing value in "${text.trim()}"`);
  return pipe;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '|') { tokens.push({ kind: 'pipe' }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw bad(`unterminated string in "${text.trim()}"`);
      tokens.push({ kind: 'literal', value: JSON.parse(text.slice(i, j + 1)) });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = text.indexOf('`', i + 1);
      if (j < 0) throw bad(`unterminated string in "${text.trim()}"`);
      tokens.push({ kind: 'literal', value: text.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    const word = /^[^\s|]+/.exec(text.slice(i))![0];
    i += word.length;
    if (word === '.') tokens.push({ kind: 'dot' });
    else if (/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(word)) tokens.push({ kind: 'field', path: word.slice(1).split('.') });
    else if (/^-?\d+(\.\d+)?$/.test(word)) tokens.push({ kind: 'literal', value: Number(word) });
    else if (word === 'true' || word === 'false') tokens.push({ kind: 'literal', value: word === 'true' });
    else if (word === 'nil') tokens.push({ kind: 'literal', value: null });
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(word)) tokens.push({ kind: 'ident', name: word });
    else throw bad(`cannot parse "${word}" (variables and parentheses are not supported)`);
  }
  return tokens;
}

/** Go's %v of a decoded JSON value */
export function goString(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.keys(v).sort().map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  return String(v);
}

function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

const str = (v: unknown) => (typeof v === 'string' ? v : goString(v));

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  // docker's: no HTML escaping, no trailing newline
  json: (v) => JSON.stringify(v === undefined ? null : v),
  join: (list, sep) => (Array.isArray(list) ? list.map(str).join(str(sep)) : str(list)),
  split: (s, sep) => str(s).split(str(sep)),
  upper: (s) => str(s).toUpperCase(),
  lower: (s) => str(s).toLowerCase(),
  title: (s) => str(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, a: string, b: string) => a + b.toUpperCase()),
  truncate: (s, n) => [...str(s)].slice(0, Number(n)).join(''),
  pad: (s, before, after) => ' '.repeat(Number(before)) + str(s) + ' '.repeat(Number(after)),
  println: (...a) => `${a.map(str).join(' ')}\n`,
  len: (v) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw bad(`len of ${goString(v)}`);
  },
  index: (v, ...keys) => keys.reduce<unknown>((acc, k) => {
    if (Array.isArray(acc)) return acc[Number(k)];
    if (acc && typeof acc === 'object') return (acc as Record<string, unknown>)[str(k)];
    throw bad(`cannot index ${goString(acc)}`);
  }, v),
  printf: (format, ...args) => {
    let n = 0;
    return str(format).replace(/%([svdq%])/g, (_, verb: string) => {
      if (verb === '%') return '%';
      const a = args[n++];
      return verb === 'q' ? JSON.stringify(str(a)) : verb === 'd' ? String(Math.trunc(Number(a))) : str(a);
    });
  },
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  not: (a) => !truthy(a),
};

export class Template {
  constructor(private readonly nodes: Node[]) {}

  execute(data: unknown): string {
    return this.run(this.nodes, data);
  }

  private run(nodes: Node[], dot: unknown): string {
    let out = '';
    for (const n of nodes) {
      if (n.kind === 'text') out += n.text;
      else if (n.kind === 'action') out += str(this.pipeline(n.pipe, dot));
      else if (n.kind === 'if') out += this.run(truthy(this.pipeline(n.pipe, dot)) ? n.body : n.otherwise, dot);
      else {
        const v = this.pipeline(n.pipe, dot);
        const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => (v as Record<string, unknown>)[k]) : null;
        if (items === null && v !== null && v !== undefined) throw bad(`range can't iterate over ${goString(v)}`);
        out += items && items.length ? items.map((item) => this.run(n.body, item)).join('') : this.run(n.otherwise, dot);
      }
    }
    return out;
  }

  private pipeline(pipe: Pipeline, dot: unknown): unknown {
    let value: unknown;
    pipe.forEach((cmd, i) => {
      const [head, ...rest] = cmd;
      const args = rest.map((t) => this.operand(t, dot));
      if (i > 0) args.push(value);
      if (head.kind === 'ident') {
        const fn = FUNCTIONS[head.name];
        if (!fn) throw bad(`function "${head.name}" not defined`);
        value = fn(...args);
      } else {
        if (args.length) throw bad(`${describe(head)} is not a function`);
        value = this.operand(head, dot);
      }
    });
    return value;
  }

  private operand(t: Token, dot: unknown): unknown {
    if (t.kind === 'dot') return dot;
    if (t.kind === 'literal') return t.value;
    if (t.kind === 'field') {
      let v = dot;
      for (const key of t.path) {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(`can't evaluate field ${key} in ${goString(v)}`);
        if (!(key in v)) throw bad(`map has no entry for key "${key}"`);
        v = (v as Record<string, unknown>)[key];
      }
      return v;
    }
    if (t.kind === 'ident') {
      const fn = FUNCTIONS[t.name];
      if (!fn) throw bad(`function "${t.name}" not defined`);
      return fn();
    }
    throw bad('unexpected |');
  }
}

function describe(t: Token): string {
  return t.kind === 'field' ? `.${t.path.join('.')}` : t.kind === 'dot' ? '.' : t.kind === 'literal' ? JSON.stringify(t.value) : 'value';
}

/** docker's format kinds: `table ...` (a header and aligned columns), `json` (`{{json .}}`), or a template per item */
export interface ParsedFormat { table: boolean; template: Template; source: string }

export function parseFormat(format: string, defaultTable: string): ParsedFormat {
  const trimmed = format.trim();
  if (trimmed === 'json') return { table: false, template: parseTemplate('{{json .}}'), source: '{{json .}}' };
  if (trimmed === 'table' || trimmed.startsWith('table ')) {
    const body = trimmed.slice('table'.length).trim() || defaultTable;
    return { table: true, template: parseTemplate(body), source: body };
  }
  return { table: false, template: parseTemplate(trimmed), source: trimmed };
}

/**
 * Renders ITEMS with a parsed format: one line per item, or with `table` a header line (the
 * template run on HEADERS: each field name -> its column title) and columns aligned as docker's
 * tabwriter (cells end at a tab, minimum width 10, padding 3).
 */
export function render(format: ParsedFormat, items: unknown[], headers: Record<string, string> = {}): string {
  const lines = items.map((item) => format.template.execute(item));
  if (!format.table) return lines.map((l) => `${l}\n`).join('');
  const header = format.template.execute(new Proxy(headers, {
    has: () => true,
    get: (h, key: string) => h[key] ?? key.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase(),
  }));
  return tabwrite([header, ...lines].join('\n').split('\n'));
}

/** Go's tabwriter.NewWriter(w, MINWIDTH, 1, 3, ' ', 0) over tab-separated lines (docker's tables: 10; top's: 20) */
export function tabwrite(lines: string[], minWidth = 10): string {
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const r of rows) r.slice(0, -1).forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, Math.max(minWidth, [...cell].length + 3))));
  return rows.map((r) => r.map((cell, i) => (i < r.length - 1 ? cell + ' '.repeat(widths[i] - [...cell].length) : cell)).join('').trimEnd() + '\n').join('');
}
