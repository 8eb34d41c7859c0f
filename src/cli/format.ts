/** Plain-text output for the CLI: aligned tables, local times, optional colour (only on a terminal, never with NO_COLOR). */

export interface Style {
  ok(s: string): string;
  warn(s: string): string;
  err(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function style(enabled: boolean): Style {
  const wrap = (code: string) => (s: string) => (enabled ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { ok: wrap('32'), warn: wrap('33'), err: wrap('31'), dim: wrap('2'), bold: wrap('1') };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const width = (s: string) => [...s.replace(ANSI, '')].length;
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - width(s)));

/** A table with a header row; cells may hold several lines. */
export function table(headers: string[], rows: string[][], st: Style): string {
  const cells = rows.map((r) => r.map((c) => c.split('\n')));
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => Math.max(...(r[i] ?? ['']).map(width)))));
  const line = (parts: string[]) => parts.map((p, i) => (i === parts.length - 1 ? p : pad(p, widths[i]))).join('  ').trimEnd();
  const out = [st.bold(line(headers.map((h, i) => pad(h, widths[i]))))];
  for (const r of cells) {
    const height = Math.max(...r.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(line(r.map((c) => c[k] ?? '')));
  }
  return out.join('\n');
}

/** Label: value lines with aligned values. */
export function pairs(items: Array<[string, string]>, indent = ''): string {
  const w = Math.max(...items.map(([k]) => width(k)));
  return items.map(([k, v]) => `${indent}${pad(k, w)}  ${v}`).join('\n');
}

const two = (n: number) => String(n).padStart(2, '0');

/** 2025-11-23 14:05 in the machine's time zone. */
export function localTime(iso: string | undefined, seconds = false): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const base = `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
  return seconds ? `${base}:${two(d.getSeconds())}` : base;
}

/** Wraps text at `cols` columns, each line after the first indented. */
export function wrap(text: string, cols: number, indent: string): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let current = '';
  for (const w of words) {
    if (current && width(current) + 1 + width(w) > cols) {
      lines.push(current);
      current = w;
    } else {
      current = current ? `${current} ${w}` : w;
    }
  }
  if (current) lines.push(current);
  return lines.map((l, i) => (i === 0 ? l : `${indent}${l}`)).join('\n');
}
