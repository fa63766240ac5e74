// Fingerprints of what a submission is graded on, for spotting copies: the files the exercise
// reads, with whitespace and comments normalised away, so a copy that was only reformatted or
// re-commented still matches. Which students match is the gradebook's business (duplicatesOf).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { resolveStepDir } from '../grading/run.js';
import type { Exercise, Step } from '../spec/loader.js';
import { readSubmissionFile } from '../submission/file.js';

/** Larger graded files are left out of the fingerprint: no source of an exercise comes near it. */
const MAX_GRADED_FILE_BYTES = 1024 * 1024;

/** The files the exercise grades, per step: Dockerfiles its builds name, compile sources, checked paths. */
export function gradedFiles(exercise: Pick<Exercise, 'steps'>): { step: Step; files: string[] }[] {
  return exercise.steps.map((step) => {
    const files = new Set<string>();
    for (const action of step.actions) {
      if (action.kind === 'build') for (const choice of action.from) files.add(choice.dockerfile);
      if (action.kind === 'compile') for (const source of action.sources) files.add(source);
    }
    for (const check of step.checks) {
      if (check.kind !== 'file-exists' && check.kind !== 'dockerfile') continue;
      const { paths, path: single } = check.options;
      if (Array.isArray(paths)) for (const each of paths) if (typeof each === 'string') files.add(each);
      if (typeof single === 'string') files.add(single);
    }
    return { step, files: [...files].map((file) => path.posix.normalize(file.replace(/\\/g, '/'))) };
  });
}

/**
 * sha256 over each step's graded files after normalising, in spec order; absent files are left
 * out, and null means none was there at all. Reads stay inside the step folder, and with
 * `confineTo` a step folder outside it (a classmate's `../scratch`) is not read either.
 */
export async function submissionFingerprint(exercise: Pick<Exercise, 'steps'>, root: string, confineTo?: string): Promise<string | null> {
  const hash = createHash('sha256');
  let found = 0;
  for (const { step, files } of gradedFiles(exercise)) {
    const { dir } = await resolveStepDir(root, step.dirs, confineTo);
    if (dir === undefined) continue;
    for (const file of new Set(files)) {
      const read = await readSubmissionFile(dir, file, { maxBytes: MAX_GRADED_FILE_BYTES, what: 'a graded file' });
      if (!read.ok && read.refusal === 'not-found') continue;
      // A file that is there but unreadable (too large, a link out, a FIFO) still tells two submissions apart.
      const content = read.ok ? normalise(file, read.bytes.toString('utf8')) : `(${read.refusal}: ${read.detail})`;
      if (read.ok) found++;
      hash.update(`${step.id}\0${file}\0${content}\0`);
    }
  }
  return found ? hash.digest('hex') : null;
}

/** `file`'s text as compared for copies: comments and whitespace runs removed, literals kept. */
export function normalise(file: string, text: string): string {
  const name = path.basename(file);
  const body = text.replace(/^\uFEFF/, '');
  if (/\.(c|h|cc|cpp)$/i.test(name)) return withoutCComments(body);
  if (/^Dockerfile/i.test(name) || /\.dockerfile$/i.test(name)) return normaliseDockerfile(body);
  return collapse(body);
}

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * C and C++ source with `//` and block comments replaced by a space (as the compiler sees them),
 * and whitespace runs outside string and character literals collapsed. Literals are kept as
 * written: a changed greeting is a different program. `#include` is a directive, not a comment.
 */
function withoutCComments(text: string): string {
  const parts: string[] = [];
  let code = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      // To the end of the line; a backslash before the newline continues the comment.
      i += 2;
      while (i < n && !(text[i] === '\n' && !/\\\r?$/.test(text.slice(Math.max(0, i - 2), i)))) i++;
      code += ' ';
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
      code += ' ';
    } else if (c === '"' || c === "'") {
      // A literal ends at its closing quote, or at an unescaped newline (where C ends it too), so
      // a stray quote cannot swallow the rest of the file.
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      j = text[j] === c ? j + 1 : Math.min(j, n);
      parts.push(code.replace(/\s+/g, ' '), text.slice(i, j));
      code = '';
      i = j;
    } else {
      code += c;
      i++;
    }
  }
  parts.push(code.replace(/\s+/g, ' '));
  return parts.join('').trim();
}

/**
 * A Dockerfile as its instructions: comment lines (and parser directives, which are written as
 * comments) dropped, continuation lines joined, whitespace collapsed, keywords upper-cased.
 */
function normaliseDockerfile(text: string): string {
  // The escape directive (`# escape=\``) changes the continuation character; it must come first.
  const directive = /^(?:\s*#\s*[a-z]+\s*=.*\r?\n)*\s*#\s*escape\s*=\s*([`\\])\s*(?:\r?\n|$)/i.exec(text);
  const escape = directive?.[1] ?? '\\';
  const lines = text.split(/\r?\n/).filter((line) => !/^\s*#/.test(line));
  const instructions: string[] = [];
  let current = '';
  for (const line of lines) {
    // Docker skips blank lines inside a continued instruction.
    if (current && line.trim() === '') continue;
    const trimmed = line.replace(/\s+$/, '');
    if (trimmed.endsWith(escape)) {
      current += `${trimmed.slice(0, -1)} `;
      continue;
    }
    instructions.push(current + line);
    current = '';
  }
  if (current) instructions.push(current);
  return instructions
    .map(collapse)
    .filter((instruction) => instruction !== '')
    .map((instruction) => instruction.replace(/^[A-Za-z]+/, (keyword) => keyword.toUpperCase()))
    .join('\n');
}
