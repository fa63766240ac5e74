// Base image substitution for self-tests: `--image alpine:3.5=grade-fixture/runtime` rewrites the
// FROM lines of a submission's Dockerfiles (in a private copy) so an exercise whose solution starts
// from registry images can be self-tested offline on local stand-ins. One registry image may stand
// for two things, a plain runtime and a toolchain once packages are installed, so a mapping may
// apply to every stage (`NAME=IMAGE`) or only to stages that install packages or compile
// (`NAME+build=IMAGE`).
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDockerfile, type Dockerfile, type Instruction } from '../dockerfile/parser.js';

export interface ImageMapping {
  /** The image name as written on the command line; `*` matches any characters. */
  written: string;
  /** Applies only to stages that install packages or compile. */
  build: boolean;
  /** The image that replaces it. */
  to: string;
  /** The written name as Docker reads it (`alpine` is `alpine:latest`), turned into a matcher. */
  matches: (image: string) => boolean;
}

export class ImageMapError extends Error {}

const BUILD_SUFFIX = '+build';
// A reference as Docker accepts it, loosely: registry host and port, path, tag, digest.
const IMAGE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;

export const IMAGE_MAP_HELP =
  'replace base image NAME by IMAGE in the FROM lines of a private copy of each submission; ' +
  'NAME+build=IMAGE only in stages that install packages or compile (apk add, apt-get install, gcc, ...) ' +
  'and the stages built on them; `*` in NAME matches anything (alpine:*); repeatable';

/** Reads one `--image` value: `NAME=IMAGE` or `NAME+build=IMAGE`. */
export function parseImageMapping(text: string): ImageMapping {
  const equals = text.indexOf('=');
  if (equals < 0) throw new ImageMapError('expected NAME=IMAGE (every stage) or NAME+build=IMAGE (stages that install packages or compile)');
  let written = text.slice(0, equals).trim();
  const to = text.slice(equals + 1).trim();
  const build = written.endsWith(BUILD_SUFFIX);
  if (build) written = written.slice(0, -BUILD_SUFFIX.length);
  if (written === '') throw new ImageMapError('no image name before "="');
  if (to === '') throw new ImageMapError(`no image after "=" to replace ${written} by`);
  if (!IMAGE_REFERENCE.test(written.replaceAll('*', 'x'))) throw new ImageMapError(`"${written}" is not an image name (such as alpine:3.5 or alpine:*)`);
  if (!IMAGE_REFERENCE.test(to) || to.includes('*')) throw new ImageMapError(`"${to}" is not an image name (such as grade-fixture/runtime)`);
  if (written.toLowerCase() === 'scratch') throw new ImageMapError('scratch is no image and is never substituted');
  const pattern = canonicalImage(written);
  const matcher = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return { written, build, to, matches: (image) => matcher.test(canonicalImage(image)) };
}

/** The mappings of every `--image` flag; a name given twice for the same stages is refused. */
export function parseImageMap(values: readonly string[]): ImageMapping[] {
  const mappings: ImageMapping[] = [];
  for (const value of values) {
    let mapping: ImageMapping;
    try {
      mapping = parseImageMapping(value);
    } catch (error) {
      if (error instanceof ImageMapError) throw new ImageMapError(`--image ${value}: ${error.message}`);
      throw error;
    }
    const twice = mappings.find((other) => other.build === mapping.build && canonicalImage(other.written) === canonicalImage(mapping.written));
    if (twice) throw new ImageMapError(`--image ${value}: ${describe(mapping)} is mapped twice (also to ${twice.to})`);
    mappings.push(mapping);
  }
  return mappings;
}

const describe = (mapping: Pick<ImageMapping, 'written' | 'build'>) => `${mapping.written}${mapping.build ? BUILD_SUFFIX : ''}`;

/** An image name as Docker reads it: Docker Hub's host and `library/` dropped, `:latest` when no tag. */
export function canonicalImage(name: string): string {
  const short = name.replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
  const lastPart = short.slice(short.lastIndexOf('/') + 1);
  return lastPart.includes(':') || short.includes('@') ? short : `${short}:latest`;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The image that replaces `image` in a stage; build stages prefer a `+build` mapping. */
export function mappedImage(map: readonly ImageMapping[], image: string, buildStage: boolean): ImageMapping | undefined {
  return (
    (buildStage ? map.find((mapping) => mapping.build && mapping.matches(image)) : undefined) ?? map.find((mapping) => !mapping.build && mapping.matches(image))
  );
}

// A RUN that installs packages with a distribution's package manager, or runs a C compiler or make.
const INSTALLS = [
  /\bapk\s+(?:-\S+\s+)*add\b/,
  /\bapt(?:-get)?\s+(?:-\S+\s+)*install\b/,
  /\b(?:yum|dnf|microdnf|zypper)\s+(?:-\S+\s+)*(?:install|in)\b/,
  /\bpacman\s+(?:-\S+\s+)*-S/,
];
const COMPILES = /(?:^|[\s;&|(/"'`])(?:gcc|g\+\+|cc|c\+\+|c99|clang|clang\+\+|tcc|make)(?=$|[\s;&|)"'`])/;

function installsOrCompiles(instruction: Instruction): boolean {
  if (instruction.keyword !== 'RUN') return false;
  const text = [instruction.json ? instruction.json.join(' ') : instruction.args, ...(instruction.heredocs ?? []).map((doc) => doc.content)].join('\n');
  return COMPILES.test(text) || INSTALLS.some((pattern) => pattern.test(text));
}

/**
 * Which stages are build stages: those that install packages or compile, and every stage that a
 * build stage is built on (FROM base ... FROM base AS build, RUN apk add ...).
 */
export function buildStages(df: Dockerfile): boolean[] {
  const build = df.stages.map((stage) => stage.instructions.some(installsOrCompiles));
  for (let index = df.stages.length - 1; index >= 0; index--) {
    const base = df.stages[index]!.baseStage;
    if (build[index] && base !== undefined) build[base] = true;
  }
  return build;
}

export interface Substitution {
  line: number;
  from: string;
  to: string;
  build: boolean;
}

export interface SubstitutedText {
  text: string;
  substitutions: Substitution[];
  /** FROM lines a mapping could not be applied to, and why: shown to the author. */
  notes: string[];
}

/**
 * Rewrites the image of each FROM the map names, keeping everything else as written (the
 * keyword's case, `--platform`, `AS name`, comments, line endings). A FROM naming an earlier
 * stage or scratch is never substituted; one naming its image through an ARG is left alone,
 * with a note. A Dockerfile that does not parse is left as it is, with a note.
 */
export function substituteBaseImages(text: string, map: readonly ImageMapping[], shown = 'Dockerfile'): SubstitutedText {
  if (map.length === 0) return { text, substitutions: [], notes: [] };
  let df: Dockerfile;
  try {
    df = parseDockerfile(text);
  } catch (error) {
    return { text, substitutions: [], notes: [`${shown}: not substituted, it does not parse (${(error as Error).message})`] };
  }
  // Lines with their endings, so the file is written back byte for byte except the images.
  const lines = text.split(/(?<=\n)/);
  const build = buildStages(df);
  const substitutions: Substitution[] = [];
  const notes: string[] = [];
  for (const stage of df.stages) {
    if (stage.baseStage !== undefined || stage.base.toLowerCase() === 'scratch') continue;
    const where = `${shown}:${stage.line}`;
    if (stage.base.includes('$')) {
      notes.push(`${where}: FROM ${stage.base} names its image through a variable: not substituted (write the image in the FROM line to map it)`);
      continue;
    }
    const mapping = mappedImage(map, stage.base, build[stage.index]!);
    if (!mapping) continue;
    const found = imageWord(lines, stage.from, df.escape);
    if (!found || found.word !== stage.base) {
      notes.push(`${where}: FROM ${stage.base}: the image could not be found in the line as written: not substituted`);
      continue;
    }
    const line = lines[found.line]!;
    lines[found.line] = line.slice(0, found.column) + mapping.to + line.slice(found.column + found.word.length);
    substitutions.push({ line: found.line + 1, from: stage.base, to: mapping.to, build: mapping.build });
  }
  return { text: lines.join(''), substitutions, notes };
}

/**
 * Where the image of a FROM is written: the first word after the keyword that is not a flag,
 * across continuation lines (skipping the comments and blank lines Docker skips there).
 */
function imageWord(lines: string[], from: Instruction, escape: string): { line: number; column: number; word: string } | undefined {
  let keywordSeen = false;
  for (let index = from.line - 1; index < from.endLine; index++) {
    const line = (lines[index] ?? '').replace(/\r?\n$/, '');
    if (index > from.line - 1 && /^\s*(#|$)/.test(line)) continue;
    for (const match of line.matchAll(/\S+/g)) {
      let word = match[0];
      if (!keywordSeen) {
        keywordSeen = true;
        continue;
      }
      // The escape character ending the line continues the instruction; it is not part of a word.
      if (match.index + word.length === line.trimEnd().length && word.endsWith(escape)) word = word.slice(0, -escape.length);
      if (word === '' || word.startsWith('--')) continue;
      return { line: index, column: match.index, word };
    }
  }
  return undefined;
}

export interface FolderSubstitution {
  /** The Dockerfile, relative to the folder. */
  file: string;
  substitutions: Substitution[];
  notes: string[];
}

/** A Dockerfile by its name: Dockerfile, Dockerfile.large, dockerfile, app.Dockerfile. */
const isDockerfileName = (name: string) => /^dockerfile/i.test(name) || /\.dockerfile$/i.test(name);

/** Applies the map to every Dockerfile in `dir` and its subfolders, in place (links are not followed). */
export async function substituteInFolder(dir: string, map: readonly ImageMapping[]): Promise<FolderSubstitution[]> {
  if (map.length === 0) return [];
  const done: FolderSubstitution[] = [];
  for (const file of await dockerfilesUnder(dir)) {
    const relative = path.relative(dir, file).split(path.sep).join('/');
    const text = await readFile(file, 'utf8');
    const result = substituteBaseImages(text, map, relative);
    if (result.substitutions.length > 0) await writeFile(file, result.text);
    done.push({ file: relative, substitutions: result.substitutions, notes: result.notes });
  }
  return done;
}

async function dockerfilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await dockerfilesUnder(full)));
    else if (entry.isFile() && isDockerfileName(entry.name) && (await lstat(full)).size <= MAX_DOCKERFILE_BYTES) found.push(full);
  }
  return found;
}

/** The grader reads no larger Dockerfile (runner/dockerfile/read.ts); neither is one rewritten. */
const MAX_DOCKERFILE_BYTES = 1024 * 1024;
