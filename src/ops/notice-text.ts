/**
 * The words of a notice, kept as segments: our own words, and values (from a request, the configuration or the
 * system) that every renderer quotes. Home Assistant renders a notification's message as Markdown, and the admin
 * page renders HTML: a value goes into a code span or a <code> element, so a redirect URI or client id sent by
 * anyone can neither format, link nor inject anything, and it is shortened and its control characters escaped.
 */
import { SCRUBBED } from '../log/redact';

/** Our words; a value (quoted as code); prose of the system such as a database error (escaped, not quoted). */
export type Segment = string | { value: string } | { prose: string };
export type Text = Segment[];

/** Longest value shown, in characters; real client ids and redirect URIs are far shorter. */
export const MAX_VALUE_CHARS = 200;
const MAX_PROSE_CHARS = 600;

/**
 * Tagged template: the literal parts are our words, every interpolation is a value (numbers included). A Text
 * interpolated is spliced in as it is, so texts compose.
 */
export function t(strings: TemplateStringsArray, ...values: Array<string | number | Text>): Text {
  const out: Text = [strings[0] ?? ''];
  values.forEach((v, i) => {
    if (Array.isArray(v)) out.push(...v);
    else out.push({ value: String(v) });
    out.push(strings[i + 1] ?? '');
  });
  return out.filter((s) => s !== '');
}

/** Our own words, chosen at run time (t`` would quote them). */
export const words = (text: string): Text => [text];

/** A sentence from the system (a database error): kept readable, but escaped like a value. */
export const prose = (text: string): Text => [{ prose: text }];

// C0/C1 controls, zero-width and bidirectional marks, line and paragraph separators: invisible or reordering.
// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's purpose
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

/** Shortens to `max` characters (by code point) and writes invisible characters as \xNN / \u{NNNN}. */
export function cleanValue(raw: string, max = MAX_VALUE_CHARS): string {
  const chars = [...raw];
  const capped = chars.length > max ? `${chars.slice(0, max).join('')}…` : raw;
  return capped.replace(HIDDEN, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/**
 * Removes every occurrence of the given secrets from values and prose (before shortening, so no part of one
 * survives a cut), then cleans them: a secret pasted into the client-id field never reaches Home Assistant.
 */
export function finishText(text: Text, secrets: readonly string[]): Text {
  const scrub = (v: string) => secrets.reduce((acc, secret) => (secret ? acc.split(secret).join(SCRUBBED) : acc), v);
  return text.map((s) => {
    if (typeof s === 'string') return s;
    return 'value' in s ? { value: cleanValue(scrub(s.value)) } : { prose: cleanValue(scrub(s.prose), MAX_PROSE_CHARS) };
  });
}

/** Every ASCII punctuation character Markdown (CommonMark, GFM) or inline HTML could act on. */
const MARKDOWN_PUNCTUATION = /[!-/:-@[-`{-~]/g;

/** Markdown: values in code spans. A backtick cannot be escaped inside one, so it is written as \x60. */
export function toMarkdown(text: Text): string {
  return text
    .map((s) => {
      if (typeof s === 'string') return s;
      if ('prose' in s) return s.prose.replace(MARKDOWN_PUNCTUATION, (c) => `\\${c}`);
      return s.value === '' ? '(empty)' : `\`${s.value.replace(/`/g, '\\x60')}\``;
    })
    .join('');
}

/** Plain text, values in quotes (the log, tests). */
export function toPlain(text: Text): string {
  return text.map((s) => (typeof s === 'string' ? s : 'prose' in s ? s.prose : `"${s.value}"`)).join('');
}
