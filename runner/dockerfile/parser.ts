// Reads a student's Dockerfile the way Docker's own parser does (parser directives, escape
// character, continuations, comments, heredocs, flags, stages) and answers the structural
// questions the runner and graders ask of it: which stages exist and what they copy from,
// which images a build needs, which ADD sources are remote, and where the toolchain ends.
// The input is untrusted text, so every rejection is a DockerfileError naming the line.
import { editDistance } from '../text/edit-distance.js';

export interface Heredoc {
  /** The terminator word, quotes removed (EOF in `<<"EOF"`). */
  name: string;
  /** The body lines, each ending in a newline, as written. */
  content: string;
}

export interface Instruction {
  /** Upper-cased: FROM, RUN, COPY, ... */
  keyword: string;
  /**
   * The text after the keyword, flags included. Continuation lines are joined as Docker joins
   * them: the escape character and the whitespace after it are removed and the next line is
   * appended as written, so `RUN a && \` + `    b` gives `a &&     b`, the same string that
   * BuildKit shows in its progress output.
   */
  args: string;
  /** Exec form (`["a","b"]`) for RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD and VOLUME. */
  json?: string[];
  /** Leading `--name=value` flags, names lower-cased; a bare `--flag` gets ''. */
  flags: Record<string, string>;
  /** Heredoc bodies (`RUN <<EOF`), which follow the instruction line in the file. */
  heredocs?: Heredoc[];
  /** 1-based line where the instruction starts. */
  line: number;
  /** 1-based last line, after continuations and heredoc bodies. */
  endLine: number;
}

export interface Stage {
  /** 0-based. */
  index: number;
  /** `AS name`, lower-cased: Docker stage names are case-insensitive. */
  name?: string;
  /** The image after FROM, flags removed, as written (ARGs not substituted). */
  base: string;
  /** Index of the earlier stage that `base` names, after global ARG substitution. */
  baseStage?: number;
  from: Instruction;
  /** The instructions after FROM, up to the next FROM. */
  instructions: Instruction[];
  line: number;
  endLine: number;
}

export interface Dockerfile {
  /** `\` or a backtick, from a `# escape=` parser directive. */
  escape: string;
  /** Parser directives at the top of the file, names lower-cased (escape, syntax, check). */
  directives: Record<string, string>;
  /** ARGs before the first FROM. */
  globalArgs: Instruction[];
  stages: Stage[];
  /** All instructions in file order, global ARGs included. */
  instructions: Instruction[];
  /** The source split into lines, without line endings (and without a leading BOM). */
  lines: string[];
}

export class DockerfileError extends Error {
  override readonly name = 'DockerfileError';

  constructor(
    message: string,
    readonly line?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** The message with the file named as the student knows it, e.g. "scratch/Dockerfile:4: ...". */
  in(file: string): string {
    return this.message.startsWith('Dockerfile:') ? `${file}${this.message.slice('Dockerfile'.length)}` : `${file}: ${this.message}`;
  }
}

export const INSTRUCTION_KEYWORDS: readonly string[] = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
];

const KNOWN_KEYWORDS = new Set(INSTRUCTION_KEYWORDS);
// Docker only honours the exec form for these; elsewhere a leading `[` is plain text.
const JSON_KEYWORDS = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'COPY', 'ADD', 'VOLUME']);
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
const DIRECTIVE_NAMES = new Set(['escape', 'syntax', 'check']);

// Go's unicode.IsSpace, which is what Docker trims with; JS's \s differs at U+0085 and U+FEFF.
const SPACE_CLASS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_SPACE = new RegExp(`^[${SPACE_CLASS}]+`);
const TRAILING_SPACE = new RegExp(`[${SPACE_CLASS}]+$`);
const IS_SPACE = new RegExp(`^[${SPACE_CLASS}]$`);
// Docker splits the keyword from its arguments on these only.
const KEYWORD_SEPARATOR = /[\t\v\f\r ]+/;
const DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;
const STAGE_NAME = /^[a-z][a-z0-9\-_.]*$/;
const HEREDOC_WORD = /^\d*<<(-?)([^<]*)$/;
const CONTINUATION: Record<string, RegExp> = { '\\': /\\[ \t]*$/, '`': /`[ \t]*$/ };

const trimSpace = (text: string): string => text.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
const isSpace = (ch: string): boolean => IS_SPACE.test(ch);
const isComment = (line: string): boolean => line.replace(LEADING_SPACE, '').startsWith('#');
const isBlank = (line: string): boolean => line.replace(LEADING_SPACE, '') === '';

function fail(line: number | undefined, message: string): never {
  throw new DockerfileError(line === undefined ? `Dockerfile: ${message}` : `Dockerfile:${line}: ${message}`, line);
}

export function parseDockerfile(source: string | Uint8Array): Dockerfile {
  const text = stripBom(decodeText(source));
  checkIsText(text);
  const lines = splitLines(text);

  const directives: Record<string, string> = {};
  let escape = '\\';
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  const instructions: Instruction[] = [];

  let directivesDone = false;
  let index = 0;
  while (index < lines.length) {
    const startIndex = index;
    const first = (lines[index] ?? '').replace(LEADING_SPACE, '');
    index++;

    if (!directivesDone) {
      const directive = DIRECTIVE.exec(first);
      const name = directive?.[1]?.toLowerCase();
      if (directive && name !== undefined && DIRECTIVE_NAMES.has(name)) {
        const value = directive[2] ?? '';
        if (name in directives) fail(startIndex + 1, `the "${name}" parser directive is given twice`);
        if (name === 'escape' && value !== '\\' && value !== '`') {
          fail(startIndex + 1, `the escape parser directive must be \\ or \`, not "${value}"`);
        }
        directives[name] = value;
        if (name === 'escape') escape = value;
        continue;
      }
      // Docker stops looking for directives at the first line that is not one, blank lines included.
      directivesDone = true;
    }
    if (first.startsWith('#')) continue;

    const continuation = CONTINUATION[escape] ?? /\\[ \t]*$/;
    let continues = continuation.test(first);
    let joined = first.replace(continuation, '');
    if (!continues && joined === '') continue;

    let lastIndex = startIndex;
    while (continues && index < lines.length) {
      const next = lines[index] ?? '';
      index++;
      // Docker skips comment and blank lines inside a continuation rather than ending it.
      if (isComment(next) || isBlank(next)) continue;
      continues = continuation.test(next);
      joined += next.replace(continuation, '');
      lastIndex = index - 1;
    }

    const full = trimSpace(joined);
    if (full === '') continue;
    const line = startIndex + 1;
    const separator = KEYWORD_SEPARATOR.exec(full);
    const written = separator ? full.slice(0, separator.index) : full;
    const args = separator ? full.slice(separator.index + separator[0].length) : '';
    const keyword = written.toUpperCase();

    if (!KNOWN_KEYWORDS.has(keyword)) {
      fail(line, `unknown instruction "${written}"${unknownKeywordHint(written, lines[startIndex] ?? '', instructions.length > 0, escape)}`);
    }
    if (stages.length === 0 && keyword !== 'FROM' && keyword !== 'ARG') {
      fail(line, `${keyword} comes before the first FROM; only ARG may appear before FROM`);
    }

    const { flags, rest } = takeFlags(args);
    const instruction: Instruction = { keyword, args, flags, line, endLine: lastIndex + 1 };
    const json = JSON_KEYWORDS.has(keyword) ? parseJsonArray(rest) : undefined;
    if (json) instruction.json = json;

    if (!json && HEREDOC_KEYWORDS.has(keyword) && rest.includes('<<')) {
      const heredocs: Heredoc[] = [];
      for (const { name, chomp } of heredocsIn(rest, escape)) {
        let content = '';
        let closed = false;
        while (index < lines.length) {
          const body = lines[index] ?? '';
          index++;
          if ((chomp ? body.replace(/^\t+/, '') : body) === name) {
            closed = true;
            break;
          }
          content += `${body}\n`;
        }
        if (!closed) fail(line, `the heredoc <<${name} is never closed: end it with a line containing only ${name}`);
        heredocs.push({ name, content });
      }
      if (heredocs.length > 0) {
        instruction.heredocs = heredocs;
        instruction.endLine = index;
      }
    }

    if (keyword === 'ONBUILD') checkTrigger(rest, line);

    instructions.push(instruction);
    if (keyword === 'FROM') {
      stages.push(newStage(instruction, rest, stages, globalArgs, escape));
    } else {
      const stage = stages[stages.length - 1];
      if (stage) {
        stage.instructions.push(instruction);
        stage.endLine = instruction.endLine;
      } else {
        globalArgs.push(instruction);
      }
    }
  }

  if (stages.length === 0) {
    const lastArg = globalArgs[globalArgs.length - 1];
    if (lastArg) fail(lastArg.endLine, 'no FROM instruction: after the ARGs, a Dockerfile needs FROM <image>');
    fail(undefined, 'the Dockerfile has no instructions; it needs at least FROM <image>');
  }

  return { escape, directives, globalArgs, stages, instructions, lines };
}

function decodeText(source: string | Uint8Array): string {
  if (typeof source === 'string') return source;
  if (looksLikeUtf16(source)) fail(1, 'Dockerfile is not a text file Docker can read: it is saved as UTF-16; save it as UTF-8');
  try {
    // Fatal: replacing bad bytes would change RUN commands, and with them Docker's layer cache.
    return new TextDecoder('utf-8', { fatal: true }).decode(source);
  } catch (error) {
    throw new DockerfileError('Dockerfile: Dockerfile is not a text file: it is not valid UTF-8', undefined, { cause: error });
  }
}

function looksLikeUtf16(bytes: Uint8Array): boolean {
  const [a, b] = bytes;
  return (a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff);
}

const stripBom = (text: string): string => (text.startsWith('\uFEFF') ? text.slice(1) : text);

function checkIsText(text: string): void {
  const nul = text.indexOf('\0');
  // A lone surrogate can only come from a string that was never text to begin with.
  const surrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(text);
  const bad = nul >= 0 ? nul : surrogate?.index;
  if (bad === undefined) return;
  const line = lineAt(text, bad);
  // Windows tools (PowerShell's `>`) write UTF-16, which decodes as ASCII interleaved with NULs.
  const utf16 = /^(?:\uFFFD\uFFFD)?(?:[\x01-\x7f]\0|\0[\x01-\x7f]){2}/.test(text);
  fail(
    line,
    utf16
      ? 'Dockerfile is not a text file Docker can read: it is saved as UTF-16; save it as UTF-8'
      : `Dockerfile is not a text file: line ${line} contains ${nul >= 0 ? 'a NUL byte' : 'a broken character'}`,
  );
}

const lineAt = (text: string, offset: number): number => text.slice(0, offset).split('\n').length;

function splitLines(text: string): string[] {
  const lines = text.split('\n').map((line) => line.replace(/\r+$/, ''));
  // The newline ending the last line does not start another one.
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

function unknownKeywordHint(written: string, rawLine: string, afterInstruction: boolean, escape: string): string {
  // An indented line that is not an instruction is usually a continuation whose escape was forgotten.
  if (afterInstruction && LEADING_SPACE.test(rawLine)) {
    return ` (if this line continues the instruction above, end the line before it with ${escape})`;
  }
  const upper = written.toUpperCase();
  // Short words are shell commands far more often than misspelt keywords (`cd` is not `CMD`).
  if (upper.length < 3) return '';
  const allowed = upper.length >= 5 ? 2 : 1;
  const best = INSTRUCTION_KEYWORDS.map((keyword) => ({ keyword, distance: editDistance(upper, keyword) })).sort((a, b) => a.distance - b.distance)[0];
  return best && best.distance <= allowed ? ` (did you mean ${best.keyword}?)` : '';
}

/**
 * Leading `--name[=value]` words, read as Docker reads them: quotes group, a backslash takes
 * the next character literally (whatever the escape directive says), and `--` ends the flags.
 */
function takeFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let pos = 0;
  for (;;) {
    while (pos < args.length && isSpace(args[pos] ?? '')) pos++;
    if (!args.startsWith('--', pos)) break;
    let word = '';
    let quote = '';
    let i = pos;
    for (; i < args.length; i++) {
      const ch = args[i] ?? '';
      if (quote === '' && isSpace(ch)) break;
      if (quote === '' && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (ch === quote) {
        quote = '';
      } else if (ch === '\\') {
        if (i + 1 < args.length) word += args[++i];
      } else {
        word += ch;
      }
    }
    pos = i;
    if (word === '--') break;
    const body = word.slice(2);
    const equals = body.indexOf('=');
    flags[(equals < 0 ? body : body.slice(0, equals)).toLowerCase()] = equals < 0 ? '' : body.slice(equals + 1);
  }
  return { flags, rest: trimSpace(args.slice(pos)) };
}

function parseJsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Docker falls back to the shell form when the brackets are not valid JSON.
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const strings: string[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'string') return undefined;
    strings.push(item);
  }
  return strings;
}

/** Shell words with their quotes and escapes kept, split at unquoted whitespace. */
function rawWords(text: string, escape: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (quote !== '') {
      word = (word ?? '') + ch;
      if (ch === escape && quote === '"' && i + 1 < text.length) word += text[++i];
      else if (ch === quote) quote = '';
      continue;
    }
    if (isSpace(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    word = (word ?? '') + ch;
    if (ch === escape && i + 1 < text.length) word += text[++i];
    else if (ch === '"' || ch === "'") quote = ch;
  }
  if (word !== undefined) words.push(word);
  return words;
}

function heredocsIn(rest: string, escape: string): { name: string; chomp: boolean }[] {
  const found: { name: string; chomp: boolean }[] = [];
  for (const word of rawWords(rest, escape)) {
    const match = HEREDOC_WORD.exec(word);
    if (!match) continue;
    const name = (match[2] ?? '').replace(/^(["'])(.*)\1$/, '$2');
    if (name !== '') found.push({ name, chomp: match[1] === '-' });
  }
  return found;
}

function checkTrigger(rest: string, line: number): void {
  const written = rest.split(KEYWORD_SEPARATOR)[0] ?? '';
  if (written === '') return;
  const trigger = written.toUpperCase();
  if (!KNOWN_KEYWORDS.has(trigger)) fail(line, `unknown instruction "${written}" after ONBUILD`);
  if (trigger === 'ONBUILD' || trigger === 'FROM' || trigger === 'MAINTAINER') {
    fail(line, `ONBUILD cannot trigger ${trigger}`);
  }
}

function newStage(from: Instruction, rest: string, earlier: Stage[], globalArgs: Instruction[], escape: string): Stage {
  const words = rest.split(KEYWORD_SEPARATOR).filter((word) => word !== '');
  const [base, as, written, ...extra] = words;
  if (base === undefined) fail(from.line, 'FROM has no image: write FROM <image>, e.g. FROM alpine:3.19');
  let name: string | undefined;
  if (as !== undefined) {
    if (as.toLowerCase() !== 'as') {
      fail(from.line, `FROM takes an image and optionally AS <name>, but "${as}" follows the image "${base}"`);
    }
    if (written === undefined) fail(from.line, `FROM ${base} AS has no stage name after AS`);
    if (extra.length > 0) fail(from.line, `FROM ${base} AS ${written} has extra words after the stage name: "${extra.join(' ')}"`);
    name = written.toLowerCase();
    if (!STAGE_NAME.test(name)) {
      fail(from.line, `invalid stage name "${written}": it must start with a letter and contain only letters, digits, '-', '_' and '.'`);
    }
    const clash = earlier.find((stage) => stage.name === name);
    if (clash) fail(from.line, `the stage name "${written}" is already used by the stage on line ${clash.line}`);
  }

  const stage: Stage = { index: earlier.length, base, from, instructions: [], line: from.line, endLine: from.endLine };
  if (name !== undefined) stage.name = name;
  const expanded = expandWord(base, argDefaults(globalArgs, escape), escape).toLowerCase();
  const named = earlier.find((candidate) => candidate.name === expanded);
  if (named) stage.baseStage = named.index;
  return stage;
}

/** Values of ARG defaults, each expanded with the ones declared before it, as Docker does. */
function argDefaults(args: Instruction[], escape: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const arg of args) {
    for (const word of rawWords(arg.args, escape)) {
      const equals = word.indexOf('=');
      if (equals > 0) values.set(word.slice(0, equals), expandWord(word.slice(equals + 1), values, escape));
    }
  }
  return values;
}

/**
 * Removes quotes and substitutes $NAME, ${NAME} and ${NAME:-default}/${NAME:+alt} (and the
 * forms without the colon). A variable with no value is left as written, so callers can see
 * that the word could not be resolved.
 */
function expandWord(word: string, values: Map<string, string>, escape: string): string {
  let out = '';
  let quote = '';
  let i = 0;
  while (i < word.length) {
    const ch = word[i] ?? '';
    if (quote === "'") {
      if (ch === "'") quote = '';
      else out += ch;
      i++;
    } else if ((ch === "'" || ch === '"') && (quote === '' || quote === ch)) {
      quote = quote === '' ? ch : '';
      i++;
    } else if (ch === escape && i + 1 < word.length) {
      const next = word[i + 1] ?? '';
      // Inside double quotes the escape only protects characters the shell would treat specially.
      if (quote === '"' && next !== '"' && next !== '$' && next !== escape) {
        out += ch;
        i++;
      } else {
        out += next;
        i += 2;
      }
    } else if (ch === '$') {
      const { text, end } = expandVariable(word, i, values, escape);
      out += text;
      i = end;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

function expandVariable(word: string, start: number, values: Map<string, string>, escape: string): { text: string; end: number } {
  const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(word.slice(start));
  if (plain) {
    const name = plain[1] ?? '';
    return { text: values.get(name) ?? plain[0], end: start + plain[0].length };
  }
  const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-+])?/.exec(word.slice(start));
  if (!braced) return { text: '$', end: start + 1 };
  let depth = 1;
  let close = start + braced[0].length;
  for (; close < word.length && depth > 0; close++) {
    if (word[close] === '{') depth++;
    else if (word[close] === '}') depth--;
  }
  if (depth > 0) return { text: word.slice(start), end: word.length };
  const end = close;
  const name = braced[1] ?? '';
  const operator = braced[2];
  const operand = word.slice(start + braced[0].length, end - 1);
  const value = values.get(name);
  if (operator === undefined) return { text: value ?? word.slice(start, end), end };
  const useOperand = operator.startsWith(':')
    ? operator.endsWith('-')
      ? value === undefined || value === ''
      : value !== undefined && value !== ''
    : operator === '-'
      ? value === undefined
      : value !== undefined;
  if (useOperand) return { text: expandWord(operand, values, escape), end };
  return { text: operator.endsWith('-') ? (value ?? '') : '', end };
}

export function resolveStageRef(df: Dockerfile, ref: string, before: number): number | undefined {
  if (/^\d+$/.test(ref)) {
    const index = Number(ref);
    return index < before && index < df.stages.length ? index : undefined;
  }
  const name = ref.toLowerCase();
  return df.stages.find((stage) => stage.index < before && stage.name === name)?.index;
}

/** The `--from` of a COPY with global ARG defaults substituted, or undefined when it has none. */
function copySource(df: Dockerfile, instruction: Instruction, values: Map<string, string>): string | undefined {
  const from = instruction.flags.from;
  if (instruction.keyword !== 'COPY' || from === undefined || from === '') return undefined;
  return expandWord(from, values, df.escape);
}

export function finalStageCopiesFrom(df: Dockerfile): number[] {
  const final = df.stages[df.stages.length - 1];
  if (!final) return [];
  const values = argDefaults(df.globalArgs, df.escape);
  const indexes: number[] = [];
  for (const instruction of final.instructions) {
    const ref = copySource(df, instruction, values);
    const index = ref === undefined ? undefined : resolveStageRef(df, ref, final.index);
    if (index !== undefined && !indexes.includes(index)) indexes.push(index);
  }
  return indexes;
}

export function externalBaseImages(df: Dockerfile): string[] {
  const values = argDefaults(df.globalArgs, df.escape);
  const images: string[] = [];
  const add = (image: string): void => {
    if (image === '' || image.includes('$') || image.toLowerCase() === 'scratch') return;
    if (!images.includes(image)) images.push(image);
  };
  for (const stage of df.stages) {
    if (stage.baseStage === undefined) add(expandWord(stage.base, values, df.escape));
    for (const instruction of stage.instructions) {
      const ref = copySource(df, instruction, values);
      // Docker reads a numeric --from as a stage index, never as an image.
      if (ref === undefined || /^\d+$/.test(ref) || resolveStageRef(df, ref, stage.index) !== undefined) continue;
      add(ref);
    }
  }
  return images;
}

const REMOTE_SOURCE = [/^https?:\/\//i, /^git:\/\//i, /^ssh:\/\//i, /^git@/i, /^github\.com\//i, /\.git(#.*)?$/i];

export function remoteSources(df: Dockerfile): { instruction: Instruction; url: string }[] {
  const found: { instruction: Instruction; url: string }[] = [];
  for (const instruction of df.instructions) {
    if (instruction.keyword !== 'ADD') continue;
    const operands =
      instruction.json ??
      takeFlags(instruction.args)
        .rest.split(/\s+/)
        .filter((word) => word !== '');
    // The last operand is the destination.
    for (const source of operands.slice(0, -1)) {
      if (REMOTE_SOURCE.some((pattern) => pattern.test(source))) found.push({ instruction, url: source });
    }
  }
  return found;
}

export function toolchainText(df: Dockerfile, stageIndex = 0): string {
  const stage = df.stages[stageIndex];
  if (!stage) throw new RangeError(`toolchainText: no stage ${stageIndex}; the Dockerfile has ${df.stages.length}`);
  const firstStage = df.stages[0] ?? stage;
  const slice = (from: number, to: number): string[] => df.lines.slice(from - 1, to);

  // Directives, comments and global ARGs: the escape directive changes how the rest parses.
  const parts = df.lines.slice(0, firstStage.line - 1);
  // A stage built on another stage needs that stage whole to mean the same thing.
  const chain: Stage[] = [];
  for (let base = stage.baseStage; base !== undefined; base = df.stages[base]?.baseStage) {
    const baseStage = df.stages[base];
    if (baseStage) chain.unshift(baseStage);
  }
  for (const base of chain) parts.push(...slice(base.line, base.endLine));

  const cut = stage.instructions.findIndex((instruction) => instruction.keyword === 'COPY' || instruction.keyword === 'ADD');
  const kept = cut < 0 ? stage.instructions : stage.instructions.slice(0, cut);
  // End at the last kept instruction, leaving out comments that introduced the cut COPY.
  parts.push(...slice(stage.line, kept[kept.length - 1]?.endLine ?? stage.from.endLine));
  return `${parts.join('\n')}\n`;
}
