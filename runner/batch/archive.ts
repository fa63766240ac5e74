// Unpacks a student's archive (zip, tar, tar.gz), which is hostile input, into a private folder:
// nothing is written outside it or through a link, and bytes, entries and the compression ratio
// are capped as bytes are written, never trusting what the archive declares.
import { close as closeCallback, constants, createReadStream, fstat as fstatCallback, open as openCallback, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, readlink, realpath, symlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import yauzl from 'yauzl';
import { formatBytes } from '../text/format.js';
import { singleLine } from '../text/plain.js';
import type { ArchiveFormat } from './entries.js';

export interface ArchiveLimits {
  /** Total bytes written, counted as they are written. */
  maxBytes: number;
  /** Files, folders (named or implied by a path) and links. */
  maxFiles: number;
  /** Bytes written per byte of the archive file, once more than RATIO_FLOOR_BYTES are written. */
  maxRatio: number;
}

export const ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({ maxBytes: 256 * 1024 * 1024, maxFiles: 20_000, maxRatio: 200 });

/** Small submissions compress far better than 200:1 (a few text files, an empty tree): the ratio counts past this. */
const RATIO_FLOOR_BYTES = 1024 * 1024;
/** PATH_MAX: no link text is longer. */
const MAX_LINK_TARGET_BYTES = 4096;
/** A tar header is 512 bytes and file data is padded to 512: two blocks bound what an entry adds, long names aside. */
const TAR_BYTES_PER_ENTRY = 1024;
const TAR_SLACK_BYTES = 1024 * 1024;
/** The kernel's own bound on links followed while resolving one path (MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;

/**
 * An archive refused, or one that cannot be read. The message is for the instructor and the
 * student, and reads after the archive's name: `alice.zip: the entry "../x" has a ".." component...`.
 */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

const openFd = promisify(openCallback);
const fstatFd = promisify(fstatCallback);
const closeFd = promisify(closeCallback);

/** Opened so a FIFO swapped in after listing cannot block, and a link swapped in is not followed. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Unpacks `file` into `into` (an existing empty private folder). Throws ArchiveError for anything
 * refused; what was written by then stays in `into`, which the caller discards.
 */
export async function extractArchive(
  file: string,
  format: ArchiveFormat,
  into: string,
  limits: ArchiveLimits = ARCHIVE_LIMITS,
): Promise<{ files: number; bytes: number }> {
  const root = await realpath(into);
  const fd = await openFd(file, READ_FLAGS);
  let size: number;
  try {
    const info = await fstatFd(fd);
    if (!info.isFile()) throw new ArchiveError('not a regular file');
    size = info.size;
  } catch (error) {
    await closeFd(fd);
    throw error;
  }
  const unpacker = new Unpacker(root, size, limits);
  // Each reader owns the descriptor from here on and closes it.
  if (format === 'zip') await unzip(fd, unpacker);
  else await untar(fd, format === 'tar.gz', unpacker);
  await unpacker.finish();
  return { files: unpacker.entries, bytes: unpacker.bytes };
}

/**
 * The folder to grade inside an unpacked archive: `into` itself, or its one top folder when every
 * file sits in it (ignoring `__MACOSX/` and dotfiles at the top, which archivers add).
 */
export async function archiveRoot(into: string): Promise<string> {
  const top = (await readdir(into, { withFileTypes: true })).filter((entry) => entry.name !== '__MACOSX' && !entry.name.startsWith('.'));
  const only = top.length === 1 ? top[0] : undefined;
  // isDirectory() is false for a link to a folder: a link is never the root.
  return only?.isDirectory() ? path.join(into, only.name) : into;
}

type Kind = 'file' | 'folder' | 'link';
const ARTICLE: Record<Kind, string> = { file: 'a file', folder: 'a folder', link: 'a link' };

const quote = (name: string) => `"${singleLine(name)}"`;

/** Why a name or link text can never name a place inside the folder: a NUL byte, or an absolute path. */
function unsafeName(name: string): string | undefined {
  if (name.includes('\0')) return 'has a NUL byte in its name';
  // `/x`, `\x`, `\\server\share`, `C:\x` and `C:x` all name something outside the folder on some system.
  if (/^(?:[\\/]|[A-Za-z]:)/.test(name)) return 'is an absolute path';
  return undefined;
}

/** Why an entry name cannot be written as it is, or undefined when it is a plain relative path. */
function nameProblem(name: string): string | undefined {
  const unsafe = unsafeName(name);
  if (unsafe !== undefined) return unsafe;
  return name.split(/[\\/]/).includes('..') ? 'has a ".." component, which leads out of the folder it is unpacked into' : undefined;
}

/** The names along a relative path; a backslash separates too, as zip writers on Windows use it. */
const partsOf = (name: string) => name.split(/[\\/]/).filter((part) => part !== '' && part !== '.');

type Content = AsyncIterable<Buffer | Uint8Array>;

interface PendingLink {
  parts: string[];
  target: string;
  name: string;
}

/**
 * Writes entries one at a time under `root`. Every entry's path is checked by name first (no `..`,
 * nothing absolute, nothing through a link or file the archive itself made), then each folder on
 * the way is made or lstat()ed, and files are created with O_EXCL | O_NOFOLLOW. Links are written
 * last, after every file, so no entry can be written through one, and each is then resolved
 * name by name on disk to prove it stays inside.
 */
class Unpacker {
  entries = 0;
  bytes = 0;
  private readonly declared = new Map<string, Kind>();
  /** Folders known to be real folders (made here, or lstat()ed): keys of `declared`, '' for the root. */
  private readonly folders = new Set<string>(['']);
  private readonly links: PendingLink[] = [];

  constructor(
    readonly root: string,
    readonly archiveBytes: number,
    readonly limits: ArchiveLimits,
  ) {}

  refuse(reason: string, cause?: unknown): never {
    throw new ArchiveError(reason, cause === undefined ? undefined : { cause });
  }

  async folder(name: string): Promise<void> {
    const parts = this.claim(name, 'folder');
    if (parts === undefined) return;
    // Its mode is not taken from the archive: every folder is 0755, as made.
    await this.makeFolders(parts, name);
  }

  /**
   * A regular file. Its content is opened only once the place for it is ready and is read at once:
   * yauzl starts inflating as soon as a stream is opened, and an error it emits before anyone
   * listens would be an uncaught exception.
   */
  async file(name: string, mode: number | undefined, openContent: () => Content | Promise<Content>, declaredBytes?: number): Promise<void> {
    const parts = this.claimNamed(name, 'file');
    // A declared size is trusted to refuse early, never to accept: the bytes are counted as written.
    if (declaredBytes !== undefined && declaredBytes > this.limits.maxBytes - this.bytes) this.overBytes(name);
    await this.makeFolders(parts.slice(0, -1), name);
    const handle = await this.writing(name, () => open(path.join(this.root, ...parts), CREATE_FLAGS, 0o600));
    try {
      const content = await openContent();
      try {
        for await (const chunk of content) {
          this.spend(chunk.byteLength, name);
          await writeAll(handle, chunk);
        }
      } finally {
        // Left early (a refusal): release the stream, which holds the archive open.
        (content as Partial<Readable>).destroy?.();
      }
      await handle.chmod(fileMode(mode));
    } finally {
      await handle.close();
    }
  }

  /** A symbolic link, written once every file is (see finish). */
  link(name: string, target: string): void {
    const parts = this.claimNamed(name, 'link');
    if (target === '') this.refuse(`the link ${quote(name)} has no target`);
    if (Buffer.byteLength(target) > MAX_LINK_TARGET_BYTES) this.refuse(`the link ${quote(name)} has a target longer than ${MAX_LINK_TARGET_BYTES} bytes`);
    // A link may climb with `..` as long as it stays inside: checked below.
    const problem = unsafeName(target);
    if (problem !== undefined) this.refuse(`the link ${quote(name)} points to ${quote(target)}, which ${problem}; links must point inside the submission`);
    // By name first, for a clear message; finish() checks again on disk, where links chain.
    const at = parts.slice(0, -1);
    for (const part of partsOf(target)) {
      if (part !== '..') at.push(part);
      else if (at.pop() === undefined)
        this.refuse(`the link ${quote(name)} points to ${quote(target)}, which leads out of the submission; links must point inside it`);
    }
    this.links.push({ parts, target, name });
  }

  /** A hard link is written as a copy of a file unpacked earlier, counted again against the limits. */
  async hardLink(name: string, target: string, mode: number | undefined): Promise<void> {
    const problem = nameProblem(target);
    if (problem !== undefined) this.refuse(`the hard link ${quote(name)} points to ${quote(target)}, which ${problem}; links must point inside the submission`);
    const targetParts = partsOf(target);
    if (this.declared.get(targetParts.join('/')) !== 'file') {
      this.refuse(`the hard link ${quote(name)} points to ${quote(target)}, which is not a file earlier in the archive`);
    }
    const source = await open(path.join(this.root, ...targetParts), READ_FLAGS);
    try {
      await this.file(name, mode ?? (await source.stat()).mode, () => source.createReadStream({ autoClose: false }));
    } finally {
      await source.close();
    }
  }

  async finish(): Promise<void> {
    for (const link of this.links) {
      await this.makeFolders(link.parts.slice(0, -1), link.name);
      await this.writing(link.name, () => symlink(link.target, path.join(this.root, ...link.parts)));
    }
    for (const link of this.links) {
      const verdict = await this.resolveLink(link);
      if (verdict === 'outside')
        this.refuse(`the link ${quote(link.name)} points to ${quote(link.target)}, which leads out of the submission through other links`);
      if (verdict === 'loop') this.refuse(`the link ${quote(link.name)} goes through more than ${MAX_LINK_HOPS} links (a loop of links?)`);
    }
  }

  /** Checks a name against the archive's own entries before anything is written, and counts what it adds. */
  private claim(name: string, kind: Kind): string[] | undefined {
    const problem = nameProblem(name);
    if (problem !== undefined) this.refuse(`the entry ${quote(name)} ${problem}; an archive may hold only paths inside its own top`);
    const parts = partsOf(name);
    if (parts.length === 0) return undefined;
    let key = '';
    for (const [index, part] of parts.entries()) {
      key = key === '' ? part : `${key}/${part}`;
      const seen = this.declared.get(key);
      if (index < parts.length - 1) {
        if (seen === undefined) this.add(key, 'folder', name);
        else if (seen !== 'folder')
          this.refuse(`the entry ${quote(name)} goes through ${quote(key)}, which the archive makes ${ARTICLE[seen]}; nothing is written through it`);
      } else if (seen === undefined) {
        this.add(key, kind, name);
      } else if (seen !== 'folder' || kind !== 'folder') {
        this.refuse(
          seen === kind
            ? `the entry ${quote(name)} appears twice in the archive`
            : `the entry ${quote(name)} is ${ARTICLE[kind]}, but an earlier entry made it ${ARTICLE[seen]}`,
        );
      }
    }
    return parts;
  }

  private claimNamed(name: string, kind: Kind): string[] {
    const parts = this.claim(name, kind);
    if (parts === undefined) this.refuse(`the entry ${quote(name)} is ${ARTICLE[kind]} without a name`);
    return parts;
  }

  private add(key: string, kind: Kind, name: string): void {
    if (this.entries >= this.limits.maxFiles) {
      this.refuse(`holds more than ${this.limits.maxFiles} files, folders and links, the most a submission may hold (at the entry ${quote(name)})`);
    }
    this.entries++;
    this.declared.set(key, kind);
  }

  private overBytes(name: string): never {
    this.refuse(`unpacks to more than ${formatBytes(this.limits.maxBytes)}, the most a submission may hold (at the entry ${quote(name)})`);
  }

  private spend(bytes: number, name: string): void {
    if (bytes > this.limits.maxBytes - this.bytes) this.overBytes(name);
    this.bytes += bytes;
    const { maxRatio } = this.limits;
    if (this.bytes > RATIO_FLOOR_BYTES && this.bytes > maxRatio * Math.max(this.archiveBytes, 1)) {
      this.refuse(
        `unpacks to ${formatBytes(this.bytes)} by the entry ${quote(name)} from an archive of ${formatBytes(this.archiveBytes)}: ` +
          `more than ${maxRatio} times its own size, the compression ratio a submission may have`,
      );
    }
  }

  /**
   * The tar stream itself (after gunzip), checked as it is read: its headers and padding write
   * nothing, so a .tar.gz of zero blocks would otherwise take minutes to gunzip within every limit.
   */
  tarStreamRead(total: number): ArchiveError | undefined {
    const { maxBytes, maxFiles, maxRatio } = this.limits;
    // Every byte written, plus a header and padding per entry, plus slack for long-name headers.
    const bound = maxBytes + TAR_BYTES_PER_ENTRY * maxFiles + TAR_SLACK_BYTES;
    const refusal = (reason: string) => new ArchiveError(reason);
    if (total > bound)
      return refusal(`its tar stream runs past ${formatBytes(bound)}, more than ${formatBytes(maxBytes)} of files could fill: the archive is padded`);
    if (total > RATIO_FLOOR_BYTES && total > maxRatio * Math.max(this.archiveBytes, 1)) {
      return refusal(
        `gunzips to ${formatBytes(total)} from an archive of ${formatBytes(this.archiveBytes)}: more than ${maxRatio} times its own size, the compression ratio a submission may have`,
      );
    }
    return undefined;
  }

  /** Makes (or checks) each folder along `parts`, refusing anything on the way that is not a real folder. */
  private async makeFolders(parts: string[], name: string): Promise<void> {
    let current = this.root;
    let key = '';
    for (const part of parts) {
      current = path.join(current, part);
      key = key === '' ? part : `${key}/${part}`;
      if (this.folders.has(key)) continue;
      try {
        await mkdir(current);
        // Exactly 0755 whatever the umask: the same tree builds the same image on any machine.
        await chmod(current, FOLDER_MODE);
      } catch (error) {
        if (errnoOf(error) !== 'EEXIST') this.writeFailure(error, name);
        // mkdir never follows a link in the last place, and every place before it is a real folder.
        const info = await lstat(current);
        if (!info.isDirectory())
          this.refuse(
            `the entry ${quote(name)} goes through ${quote(key)}, which is not a folder on disk (names that differ only in case clash on some systems)`,
          );
      }
      this.folders.add(key);
    }
  }

  /** Runs a write, turning the errors an archive can cause into refusals; the machine's own (ENOSPC) pass through. */
  private async writing<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      this.writeFailure(error, name);
    }
  }

  private writeFailure(error: unknown, name: string): never {
    switch (errnoOf(error)) {
      case 'EEXIST':
      case 'ENOTDIR':
      case 'EISDIR':
      case 'ELOOP':
        this.refuse(`the entry ${quote(name)} clashes with another entry (names that differ only in case clash on some systems)`, error);
        break;
      case 'ENAMETOOLONG':
        this.refuse(`the entry ${quote(name)} has a name too long for this system`, error);
        break;
      case 'EILSEQ':
      case 'EINVAL':
        this.refuse(`the entry ${quote(name)} has a name this system cannot store`, error);
        break;
    }
    throw error;
  }

  /**
   * Resolves a written link name by name on disk, as the kernel would, and says whether it stays
   * inside `root`. Only `..` can leave, and it is refused as soon as it does: nothing outside is
   * ever looked at.
   */
  private async resolveLink(link: PendingLink): Promise<'inside' | 'outside' | 'loop'> {
    const inside = (candidate: string) => candidate === this.root || candidate.startsWith(`${this.root}${path.sep}`);
    let current = path.join(this.root, ...link.parts.slice(0, -1));
    const pending = link.target.split('/');
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        current = path.dirname(current);
        if (!inside(current)) return 'outside';
        continue;
      }
      const next = path.join(current, part);
      let info: Stats;
      try {
        info = await lstat(next);
      } catch {
        // Nothing there: the rest cannot hold a link, so it resolves by name alone.
        const rest = path.resolve(next, ...pending);
        return inside(rest) ? 'inside' : 'outside';
      }
      if (!info.isSymbolicLink()) {
        current = next;
        continue;
      }
      if (++hops > MAX_LINK_HOPS) return 'loop';
      const text = await readlink(next);
      if (path.isAbsolute(text)) return 'outside';
      pending.unshift(...text.split('/'));
    }
    return 'inside';
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/**
 * Modes as git keeps them: only the executable bit survives (a build needs it); setuid, setgid,
 * sticky and odd permissions (0000, 0777) do not, and the owner can always write and clean up.
 */
const fileMode = (mode: number | undefined) => (mode !== undefined && mode & 0o111 ? 0o755 : 0o644);
const FOLDER_MODE = 0o755;

const errnoOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;
/** An error of the file system itself (it has a syscall), as opposed to one of a parser. */
const isSystemError = (error: unknown) => error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';

// Unix file types as zip's external attributes carry them (st_mode << 16).
const S_IFMT = 0o170000;
const UNIX_TYPES = new Map<number, string>([
  [0o100000, 'file'],
  [0o040000, 'folder'],
  [0o120000, 'link'],
  [0o010000, 'a FIFO (named pipe)'],
  [0o020000, 'a character device'],
  [0o060000, 'a block device'],
  [0o140000, 'a socket'],
]);
// "Version made by" systems whose attributes hold a Unix mode: 3 Unix, 19 OS X.
const UNIX_MADE_BY = new Set([3, 19]);

async function unzip(fd: number, unpacker: Unpacker): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    // decodeStrings off: yauzl would refuse `..` and absolute names with its own message; we refuse them with ours.
    zip = await yauzl.fromFdPromise(fd, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: true });
  } catch (error) {
    await closeFd(fd);
    if (isSystemError(error)) throw error;
    throw new ArchiveError(`not a zip archive that can be read (corrupt or truncated): ${singleLine((error as Error).message)}`, { cause: error });
  }
  if (zip.entryCount > unpacker.limits.maxFiles) {
    zip.close();
    unpacker.refuse(`holds ${zip.entryCount} entries, more than the ${unpacker.limits.maxFiles} files, folders and links a submission may hold`);
  }
  const where = new Position();
  try {
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      where.enter(name);
      const unixMode = UNIX_MADE_BY.has(entry.versionMadeBy >> 8) ? entry.externalFileAttributes >>> 16 : 0;
      const typed = UNIX_TYPES.get(unixMode & S_IFMT);
      // MS-DOS attributes mark a folder with 0x10; every writer also ends a folder's name with '/'.
      const kind =
        name.endsWith('/') || entry.externalFileAttributes & 0x10 ? 'folder' : (typed ?? (unixMode & S_IFMT ? 'an entry of an unknown type' : 'file'));
      const mode = unixMode & S_IFMT ? unixMode & 0o7777 : undefined;
      if (kind !== 'file' && kind !== 'folder' && kind !== 'link') {
        unpacker.refuse(`the entry ${quote(name)} is ${kind}; only files, folders and links are unpacked`);
      }
      if (entry.isEncrypted()) unpacker.refuse(`the entry ${quote(name)} is encrypted; submit an archive without a password`);
      if (kind === 'folder') {
        await unpacker.folder(name);
      } else {
        if (!entry.canDecodeFileData()) {
          unpacker.refuse(`the entry ${quote(name)} uses compression method ${entry.compressionMethod}; only stored and deflated entries are unpacked`);
        }
        if (kind === 'link') unpacker.link(name, await linkText(await zip.openReadStreamPromise(entry), name, unpacker));
        else await unpacker.file(name, mode, () => zip.openReadStreamPromise(entry), entry.uncompressedSize);
      }
      where.leave();
    }
  } catch (error) {
    zip.close();
    throw zipError(error, where);
  }
}

/** Which entry an error from a reader belongs to: the one being written, or the header after the last one written. */
class Position {
  private current: string | undefined;
  private previous: string | undefined;
  enter(name: string): void {
    this.current = name;
  }
  leave(): void {
    this.previous = this.current;
    this.current = undefined;
  }
  get inside(): string | undefined {
    return this.current;
  }
  /** " at the entry x", " after the entry x" or "". */
  get phrase(): string {
    if (this.current !== undefined) return ` at the entry ${quote(this.current)}`;
    return this.previous === undefined ? '' : ` after the entry ${quote(this.previous)}`;
  }
}

async function linkText(content: Readable, name: string, unpacker: Unpacker): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of content as AsyncIterable<Buffer>) {
    length += chunk.byteLength;
    if (length > MAX_LINK_TARGET_BYTES) {
      content.destroy();
      unpacker.refuse(`the link ${quote(name)} has a target longer than ${MAX_LINK_TARGET_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function zipError(error: unknown, where: Position): Error {
  if (error instanceof ArchiveError || isSystemError(error)) return error as Error;
  const message = singleLine(error instanceof Error ? error.message : String(error));
  // yauzl's wording (3.x): it checks each entry's real size against the size it declares, while
  // streaming, or (for a stored entry) against its compressed size before handing the entry over.
  const lying = /^(too many|not enough) bytes in the stream\. expected (\d+)/.exec(message);
  if (lying && where.inside !== undefined) {
    return new ArchiveError(
      `the entry ${quote(where.inside)} declares ${lying[2]} bytes but holds ${lying[1] === 'too many' ? 'more' : 'fewer'}; the archive is corrupt or was crafted`,
      { cause: error },
    );
  }
  if (message.startsWith('compressed/uncompressed size mismatch')) {
    return new ArchiveError(`an entry${where.phrase} declares a size its data does not have; the archive is corrupt or was crafted (${message})`, {
      cause: error,
    });
  }
  if (message.includes('strong encryption')) {
    return new ArchiveError(`an entry${where.phrase} is encrypted; submit an archive without a password`, { cause: error });
  }
  return new ArchiveError(`corrupt or truncated${where.phrase}: ${message}`, { cause: error });
}

async function untar(fd: number, gzipped: boolean, unpacker: Unpacker): Promise<void> {
  const input = createReadStream('', { fd, autoClose: true });
  const entries = extract();
  let read = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      read += chunk.byteLength;
      const refusal = unpacker.tarStreamRead(read);
      if (refusal) done(refusal);
      else done(null, chunk);
    },
  });
  const feeding = gzipped ? pipeline(input, createGunzip(), counted, entries) : pipeline(input, counted, entries);
  // Settled here: a refusal below stops the feed, and that must not become an unhandled rejection.
  const fed = feeding.then(
    () => undefined,
    (error: unknown) => error,
  );
  const where = new Position();
  try {
    for await (const entry of entries) {
      where.enter(entry.header.name);
      // streamx's Readable is async-iterable; its type declarations leave that out.
      await tarEntry(entry.header, entry as unknown as AsyncIterable<Buffer>, unpacker);
      entry.resume();
      where.leave();
    }
  } catch (error) {
    input.destroy();
    const failure = await fed;
    // An entry's stream says only that it was destroyed; why is the feed's error (truncation, gzip).
    const cause = error instanceof ArchiveError || isSystemError(error) || failure === undefined ? error : failure;
    throw tarError(cause, where);
  }
  const failure = await fed;
  if (failure !== undefined) throw tarError(failure, where);
}

async function tarEntry(header: Header, content: AsyncIterable<Buffer>, unpacker: Unpacker): Promise<void> {
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      return unpacker.file(header.name, header.mode, () => content, header.size);
    case 'directory':
      return unpacker.folder(header.name);
    case 'symlink':
      return unpacker.link(header.name, header.linkname ?? '');
    case 'link':
      return unpacker.hardLink(header.name, header.linkname ?? '', header.mode);
    default:
      unpacker.refuse(`the entry ${quote(header.name)} is ${describeTarEntry(header)}; only files, folders and links are unpacked`);
  }
}

function describeTarEntry(header: Header): string {
  switch (header.type) {
    case 'character-device':
      return 'a character device';
    case 'block-device':
      return 'a block device';
    case 'fifo':
      return 'a FIFO (named pipe)';
    default:
      // tar-stream gives null for types it does not know, such as GNU sparse files.
      return `an entry of a type that is not unpacked (${singleLine(String(header.type ?? 'unknown'))})`;
  }
}

function tarError(error: unknown, where: Position): Error {
  if (error instanceof ArchiveError || isSystemError(error)) return error as Error;
  const message = singleLine(error instanceof Error ? error.message : String(error));
  // zlib's errors carry codes such as Z_BUF_ERROR ("unexpected end of file") and Z_DATA_ERROR.
  if (errnoOf(error)?.startsWith('Z_')) {
    return new ArchiveError(`not gzip data that can be read (corrupt or truncated${where.phrase}): ${message}`, { cause: error });
  }
  // tar-stream's wording (3.x) when the data stops inside an entry or a header.
  if (message === 'Unexpected end of data') {
    return new ArchiveError(`truncated: it ends${where.phrase || ' inside its first entry'}`, { cause: error });
  }
  return new ArchiveError(`not a tar archive that can be read (corrupt or truncated${where.phrase}): ${message}`, { cause: error });
}
