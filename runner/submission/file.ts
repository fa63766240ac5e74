// Reads files from a submission, which is untrusted: a name may be a link out of its folder, a
// FIFO that never answers, a device that never ends or a sparse file of any size. Nothing here
// follows a link out of the folder, opens anything but a regular file, or reads past its cap.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { formatSize } from '../text/format.js';

/** Why a file was not read; `reason` is the whole sentence a student reads. */
export interface Refused {
  ok: false;
  refusal: 'not-found' | 'folder' | 'not-regular' | 'not-folder' | 'outside' | 'too-large' | 'unreadable';
  /** What follows the file's name, e.g. "is a fifo (named pipe): not a regular file". */
  detail: string;
  /** `${shown} ${detail}`. */
  reason: string;
}

export type FileBytes = { ok: true; bytes: Buffer } | Refused;
export type FoundEntry = { ok: true; kind: 'file' | 'folder'; path: string } | Refused;

export interface ReadOptions {
  /** More than this is refused, having read at most one byte past it. */
  maxBytes: number;
  /** What the file is, for the size message: "a Dockerfile", "a source file". */
  what: string;
  /** The name the student knows it by, e.g. "scratch/Dockerfile"; defaults to `relative`. */
  shown?: string;
}

const CHUNK_BYTES = 64 * 1024;

/**
 * The bytes of `relative` inside the folder `root`. A link to another file inside `root` is
 * followed; a link (or a linked folder on the way) that leads out of it is refused without
 * looking at what it leads to, so nothing of the grading machine reaches a message.
 */
export async function readSubmissionFile(root: string, relative: string, options: ReadOptions): Promise<FileBytes> {
  const shown = options.shown ?? relative;
  const found = await resolveInside(root, relative, shown);
  if (!found.ok) return found;
  const refusal = notAFile(found.info, shown);
  if (refusal) return refusal;
  // O_NOFOLLOW: the name was resolved above, so a link here means it changed in between.
  return readOpened(found.real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK, shown, options);
}

/** Whether `relative` is a regular file (or a folder) inside `root`, with the same confinement. */
export async function statSubmissionFile(root: string, relative: string, options: { expect: 'file' | 'folder'; shown?: string }): Promise<FoundEntry> {
  const shown = options.shown ?? relative;
  const found = await resolveInside(root, relative, shown);
  if (!found.ok) return found;
  if (options.expect === 'file') {
    return notAFile(found.info, shown) ?? { ok: true, kind: 'file', path: found.real };
  }
  if (found.info.isDirectory()) return { ok: true, kind: 'folder', path: found.real };
  return refused('not-folder', shown, `is ${found.info.isFile() ? 'a file' : kindOf(found.info)}, not a folder`);
}

/**
 * A file the grader itself was given (a spec), where links are fine: still only a regular file,
 * opened so a FIFO cannot block, and read no further than `maxBytes` + 1.
 */
export async function readRegularFile(file: string, options: ReadOptions): Promise<FileBytes> {
  const shown = options.shown ?? file;
  let info: Stats;
  try {
    info = await stat(file);
  } catch (error) {
    return fromErrno(error, shown);
  }
  return notAFile(info, shown) ?? readOpened(file, constants.O_RDONLY | constants.O_NONBLOCK, shown, options);
}

async function readOpened(file: string, flags: number, shown: string, { maxBytes, what }: ReadOptions): Promise<FileBytes> {
  const tooLarge = (size?: number) => {
    // Exact counts when rounding would make the size and the cap read the same.
    const exact = size !== undefined && formatSize(size) === formatSize(maxBytes);
    const cap = exact ? `${maxBytes} bytes` : formatSize(maxBytes);
    const found = size === undefined ? 'larger than' : `${exact ? `${size} bytes` : formatSize(size)}, over`;
    return refused('too-large', shown, `is ${found} the ${cap} ${what} may have`);
  };
  let handle: FileHandle;
  try {
    handle = await open(file, flags);
  } catch (error) {
    return fromErrno(error, shown);
  }
  try {
    const info = await handle.stat();
    const refusal = notAFile(info, shown);
    if (refusal) return refusal;
    // A sparse file says how large it is: refuse it without reading a byte.
    if (info.size > maxBytes) return tooLarge(info.size);
    // Read in chunks, never past maxBytes + 1: the size above may be wrong (a file still growing).
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= maxBytes) {
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    if (total > maxBytes) return tooLarge();
    return { ok: true, bytes: Buffer.concat(chunks, total) };
  } catch (error) {
    return fromErrno(error, shown);
  } finally {
    await handle.close().catch(() => {});
  }
}

type Resolved = { ok: true; real: string; info: Stats } | Refused;

/**
 * Walks `relative` one name at a time from the real `root`, resolving each link and requiring
 * it to stay inside: nothing outside is ever stat()ed, so even whether a file exists out there
 * cannot leak into a message.
 */
async function resolveInside(root: string, relative: string, shown: string): Promise<Resolved> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (error) {
    return fromErrno(error, shown);
  }
  const inside = (candidate: string) => candidate === realRoot || candidate.startsWith(`${realRoot}${path.sep}`);
  const outside = (through: string | undefined) =>
    refused(
      'outside',
      shown,
      through === undefined
        ? 'is a link out of the folder being graded; the grader reads only files inside it: copy the file in instead of linking to it'
        : `goes through ${through}, a link out of the folder being graded; the grader reads only files inside it`,
    );
  if (path.isAbsolute(relative)) return outside(undefined);

  const names = relative.split(/[\\/]+/).filter((name) => name !== '' && name !== '.');
  let current = realRoot;
  let info: Stats;
  try {
    info = await lstat(realRoot);
  } catch (error) {
    return fromErrno(error, shown);
  }
  for (const [index, name] of names.entries()) {
    const last = index === names.length - 1;
    if (!info.isDirectory()) return refused('not-found', shown, 'not found');
    // `current` has no links in it, so `..` is plain text arithmetic.
    const next = name === '..' ? path.dirname(current) : path.join(current, name);
    if (!inside(next)) return outside(undefined);
    try {
      info = await lstat(next);
    } catch (error) {
      return fromErrno(error, shown);
    }
    if (!info.isSymbolicLink()) {
      current = next;
      continue;
    }
    const through = last ? undefined : names.slice(0, index + 1).join('/');
    let real: string;
    try {
      real = await realpath(next);
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT') return fromErrno(error, shown);
      // A link to nothing: say so only when its target would have been inside.
      const target = path.resolve(current, await readlink(next).catch(() => '/'));
      if (!inside(target)) return outside(through);
      return refused('not-found', shown, through === undefined ? 'is a link to a file that does not exist' : 'not found');
    }
    if (!inside(real)) return outside(through);
    current = real;
    try {
      info = await lstat(real);
    } catch (error) {
      return fromErrno(error, shown);
    }
  }
  return { ok: true, real: current, info };
}

/** A refusal unless `info` is a regular file. */
function notAFile(info: Stats, shown: string): Refused | undefined {
  if (info.isFile()) return undefined;
  if (info.isDirectory()) return refused('folder', shown, 'is a folder, not a regular file');
  return refused('not-regular', shown, `is ${kindOf(info)}: not a regular file`);
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a fifo (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSymbolicLink()) return 'a link';
  if (info.isDirectory()) return 'a folder';
  return 'an unknown kind of file';
}

const errnoOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

function fromErrno(error: unknown, shown: string): Refused {
  switch (errnoOf(error)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return refused('not-found', shown, 'not found');
    case 'EACCES':
    case 'EPERM':
      return refused('unreadable', shown, 'cannot be read: permission denied (make it readable: chmod a+r)');
    case 'ELOOP':
      return refused('unreadable', shown, 'is a link that leads back to itself (a loop of links)');
    case 'ENXIO':
      return refused('not-regular', shown, 'is a socket: not a regular file');
    case 'EISDIR':
      return refused('folder', shown, 'is a folder, not a regular file');
    default:
      return refused('unreadable', shown, `cannot be read: ${errnoOf(error) ?? (error as Error).message}`);
  }
}

function refused(refusal: Refused['refusal'], shown: string, detail: string): Refused {
  return { ok: false, refusal, detail, reason: `${shown} ${detail}` };
}
