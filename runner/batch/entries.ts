// What a class folder holds: one submission per entry (a folder or an archive), everything else
// listed as skipped with the reason, and a content hash that tells a rerun what changed. Nothing
// here follows a link or opens anything but a regular file or a folder.
import { createHash, type Hash } from 'node:crypto';
import { constants, type BigIntStats, type Dirent } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { singleLine } from '../text/plain.js';

export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz';

export type ClassEntry =
  | { kind: 'folder'; entry: string; student: string; path: string }
  | { kind: 'archive'; entry: string; student: string; path: string; format: ArchiveFormat }
  | { kind: 'skipped'; entry: string; reason: string };

export type Submission = Extract<ClassEntry, { kind: 'folder' | 'archive' }>;

/** Longest first, so `alice.tar.gz` is not taken for a `.gz` of something else. */
const ARCHIVE_EXTENSIONS: ReadonlyArray<readonly [string, ArchiveFormat]> = [
  ['.tar.gz', 'tar.gz'],
  ['.tgz', 'tar.gz'],
  ['.tar', 'tar'],
  ['.zip', 'zip'],
];

/** Every entry of the class folder, sorted by entry name (code-point order, stable across machines and locales). */
export async function listClass(classDir: string): Promise<ClassEntry[]> {
  const root = path.resolve(classDir);
  // Names as bytes: a name that is not UTF-8 would otherwise decode to one that does not exist.
  const dirents = await readdir(root, { withFileTypes: true, encoding: 'buffer' });
  // Byte order of UTF-8 is code-point order.
  dirents.sort((a, b) => Buffer.compare(a.name, b.name));
  // Student names compared folded: `Alice/` and `alice.zip` would share one output folder on a
  // case-insensitive disk, and GitHub logins differ by more than case anyway.
  const taken = new Map<string, string>();
  const entries: ClassEntry[] = [];
  for (const dirent of dirents) {
    const entry = classify(root, dirent);
    if (entry.kind !== 'skipped') {
      const key = entry.student.normalize('NFC').toLowerCase();
      const first = taken.get(key);
      if (first !== undefined) {
        entries.push({
          kind: 'skipped',
          entry: entry.entry,
          reason: `${singleLine(entry.entry)} would be graded as the student "${singleLine(entry.student)}", already taken by ${singleLine(first)} (the first in name order); rename one of them`,
        });
        continue;
      }
      taken.set(key, entry.entry);
    }
    entries.push(entry);
  }
  return entries;
}

function classify(root: string, dirent: Dirent<Buffer>): ClassEntry {
  const entry = dirent.name.toString('utf8');
  const skipped = (reason: string): ClassEntry => ({ kind: 'skipped', entry, reason });
  if (entry.startsWith('.')) return skipped('hidden (its name starts with a dot): not a submission');
  if (!Buffer.from(entry, 'utf8').equals(dirent.name)) return skipped('its name is not valid UTF-8 text: rename it to grade it');
  const entryPath = path.join(root, entry);
  // readdir's types come from lstat (or the directory itself): a link reads as a link.
  if (dirent.isSymbolicLink()) return skipped('a link, not graded: grade the folder it points to instead');
  if (dirent.isDirectory()) return { kind: 'folder', entry, student: entry, path: entryPath };
  if (dirent.isFile()) {
    const lower = entry.toLowerCase();
    for (const [extension, format] of ARCHIVE_EXTENSIONS) {
      if (lower.endsWith(extension) && lower.length > extension.length) {
        return { kind: 'archive', entry, student: entry.slice(0, -extension.length), path: entryPath, format };
      }
    }
    return skipped('a file, not a submission: only folders and .zip, .tar, .tar.gz and .tgz archives are graded');
  }
  if (dirent.isFIFO()) return skipped('a FIFO (named pipe), not a submission; it was not opened');
  if (dirent.isSocket()) return skipped('a socket, not a submission; it was not opened');
  if (dirent.isCharacterDevice()) return skipped('a character device, not a submission; it was not opened');
  if (dirent.isBlockDevice()) return skipped('a block device, not a submission; it was not opened');
  return skipped('neither a folder nor a file, not a submission; it was not opened');
}

export interface HashLimits {
  /** A larger file contributes its size and modification time instead of its content. */
  maxFileBytes: number;
  /** Past this many entries, what was walked is hashed with a marker. */
  maxEntries: number;
}

export const HASH_LIMITS: HashLimits = Object.freeze({ maxFileBytes: 8 * 1024 * 1024, maxEntries: 100_000 });

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CHUNK_BYTES = 256 * 1024;

/** A stable hash (sha256 hex) of a submission's content, to tell on a rerun whether it changed. */
export async function contentHash(entry: Submission, limits: HashLimits = HASH_LIMITS): Promise<string> {
  if (entry.kind === 'archive') {
    const hash = createHash('sha256');
    await hashFile(hash, Buffer.from(entry.path), undefined, Number.POSITIVE_INFINITY, entry.path);
    return hash.digest('hex');
  }
  return folderHash(entry.path, limits);
}

/**
 * The folder walked with lstat in byte order of names, one record per entry: type, relative path
 * and, for a file, its executable bit and the sha256 of its content; for a link, its text. Fields
 * end in NUL, which no name or link text can hold, so no two trees give the same records.
 */
async function folderHash(folder: string, { maxFileBytes, maxEntries }: HashLimits): Promise<string> {
  const tree = createHash('sha256');
  tree.update('grade-folder-v1\0');
  const rootInfo = await lstat(folder);
  if (!rootInfo.isDirectory()) throw new Error(`${singleLine(folder)} is no longer a folder`);
  // An explicit stack, not recursion: a hostile tree may nest thousands deep.
  const pending: Place[] = [{ absolute: Buffer.from(folder), relative: Buffer.alloc(0) }];
  let walked = 0;
  while (pending.length > 0) {
    const { absolute, relative } = pending.pop()!;
    let names: Buffer[];
    try {
      names = (await readdir(absolute, { encoding: 'buffer' })).sort(Buffer.compare);
    } catch (error) {
      tree.update(record('unreadable', relative, errnoOf(error) ?? 'error'));
      continue;
    }
    const capped = names.length > maxEntries - walked;
    if (capped) names = names.slice(0, maxEntries - walked);
    walked += names.length;
    const places = names.map((name) => ({
      absolute: Buffer.concat([absolute, SLASH, name]),
      relative: relative.length === 0 ? name : Buffer.concat([relative, SLASH, name]),
    }));
    // Files are read a few at a time (most of the cost is waiting on the file system); records
    // still go into the hash in name order.
    const described = await mapLimited(places, HASH_CONCURRENCY, (place) => describe(place, maxFileBytes));
    const folders: Place[] = [];
    for (const [index, { type, detail }] of described.entries()) {
      const place = places[index]!;
      tree.update(record(type, place.relative, detail));
      if (type === 'folder') folders.push(place);
    }
    if (capped) {
      tree.update(record('truncated', Buffer.alloc(0), String(maxEntries)));
      return tree.digest('hex');
    }
    // Reversed onto the stack so the first folder in name order is walked first.
    for (const next of folders.reverse()) pending.push(next);
  }
  return tree.digest('hex');
}

interface Place {
  absolute: Buffer;
  relative: Buffer;
}

const SLASH = Buffer.from('/');
const HASH_CONCURRENCY = 16;

function record(type: string, relative: Buffer, detail: string | Buffer = ''): Buffer {
  return Buffer.concat([Buffer.from(`${type}\0`), relative, Buffer.from('\0'), typeof detail === 'string' ? Buffer.from(detail) : detail, Buffer.from('\0')]);
}

/** One entry's type and what of it is hashed, from lstat: a link is read as text, a FIFO or device never opened. */
async function describe({ absolute }: Place, maxFileBytes: number): Promise<{ type: string; detail: string | Buffer }> {
  let info: BigIntStats;
  try {
    info = await lstat(absolute, { bigint: true });
  } catch (error) {
    return { type: 'unreadable', detail: errnoOf(error) ?? 'error' };
  }
  if (info.isDirectory()) return { type: 'folder', detail: '' };
  if (info.isSymbolicLink()) {
    return { type: 'link', detail: await readlink(absolute, { encoding: 'buffer' }).catch((error: unknown) => `\u0001unreadable:${errnoOf(error)}`) };
  }
  if (!info.isFile()) return { type: specialType(info), detail: '' };
  const executable = info.mode & 0o111n ? 'x' : '-';
  // A sparse file can claim any size: never read one this large.
  if (info.size > BigInt(maxFileBytes)) return { type: 'large-file', detail: `${executable}:${info.size}:${info.mtimeNs}` };
  const content = createHash('sha256');
  try {
    await hashFile(content, absolute, info, maxFileBytes, '');
  } catch (error) {
    return { type: 'file', detail: `${executable}:unreadable:${errnoOf(error) ?? 'error'}` };
  }
  return { type: 'file', detail: `${executable}:${content.digest('hex')}` };
}

/** `work` over `items`, at most `limit` at a time, results in the order of `items`. */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Feeds a regular file's bytes (at most `maxBytes`) into `hash`. Opened without following a link
 * and without blocking, then checked to be the file that was lstat()ed: a FIFO or a link swapped
 * in between is refused, not read.
 */
async function hashFile(hash: Hash, file: Buffer, expected: BigIntStats | undefined, maxBytes: number, shown: string): Promise<void> {
  const handle = await open(file, READ_FLAGS);
  try {
    const info = await handle.stat({ bigint: true });
    if (!info.isFile() || (expected !== undefined && (info.ino !== expected.ino || info.dev !== expected.dev))) {
      throw Object.assign(new Error(`${singleLine(shown)} is not a regular file`), { code: 'ECHANGED' });
    }
    // Sized to the file (one byte more, to see its end in one read), not a fixed large buffer:
    // most submission files are a few kB.
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Number(info.size) + 1));
    let total = 0;
    while (total < maxBytes) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, maxBytes - total), null);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
      total += bytesRead;
      // Fewer bytes than asked for: the end, for a regular file; saves the read that returns 0.
      if (bytesRead < chunk.length && total >= Number(info.size)) break;
    }
  } finally {
    await handle.close();
  }
}

function specialType(info: BigIntStats): string {
  if (info.isFIFO()) return 'fifo';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice()) return 'character-device';
  if (info.isBlockDevice()) return 'block-device';
  return 'unknown';
}

const errnoOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;
