// Turns a student's folder into the tar archive sent to the engine as a build context, as
// `docker build` would: .dockerignore applied, links kept as links, special files left out.
// The folder is untrusted, so the limits are checked from lstat alone before any content is
// read, and every path is opened without following links.
import { constants as fsConstants, type Stats } from 'node:fs';
import { lstat, open, readFile, readdir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import { pack, type Pack } from 'tar-stream';
import { formatBytes } from '../text/format.js';
import { singleLine } from '../text/plain.js';

export interface ContextLimits {
  /** Total size of the folder's regular files that get packed. */
  maxBytes: number;
  /** Regular files packed; folders and links are held to the same figure separately. */
  maxFiles: number;
}

export interface PackedContext {
  /** The archive to send as the build context. */
  tar: Buffer;
  /** Regular files packed from the folder (generated extra files not included). */
  files: number;
  /** Their total size in bytes. */
  bytes: number;
  /** Reported to the student, not fatal: links out of the folder, skipped special files. */
  warnings: string[];
}

/** A build context that cannot be sent; the message is meant for the student. Every name in a
 * message or warning goes through singleLine: a file name may hold a newline. */
export class ContextError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContextError';
  }
}

export interface PackOptions {
  /** Path of the Dockerfile relative to the folder; packed even if .dockerignore excludes it. */
  dockerfile: string;
  limits: ContextLimits;
  /** Files the grader generates, placed at these paths in the archive; not subject to
   * .dockerignore or the limits, and they replace anything the student has at the same path. */
  extraFiles?: { name: string; content: string }[];
}

const IGNORE_FILE = '.dockerignore';
// Generated entries have no file on disk; a fixed time keeps the archive identical between runs.
const GENERATED_MTIME = new Date(0);
// tar-stream replaces a mode of 0 by its default, so the type bits ride along (it masks them off
// when encoding): a file really chmod'ed 000 keeps 000.
const GENERATED_FILE_MODE = fsConstants.S_IFREG | 0o644;
const GENERATED_DIR_MODE = fsConstants.S_IFDIR | 0o755;
// The package is CommonJS with an ESM-style `export default` in its types; it also sets
// `module.exports.default`, so this reference works both for tsc and at run time.
const createIgnore = dockerignore.default;
type EntryHeader = Parameters<Pack['entry']>[0];

const ADVICE = 'add a .dockerignore listing what the image does not need (node_modules, .git, build output)';

type PlannedEntry =
  | { name: string; kind: 'directory'; mode: number; mtime: Date }
  | { name: string; kind: 'file'; mode: number; mtime: Date; size: number; source: string }
  | { name: string; kind: 'symlink'; mode: number; mtime: Date; target: string }
  | { name: string; kind: 'generated'; mode: number; mtime: Date; content: Buffer };

interface IgnoreRules {
  ignores(relative: string): boolean;
  /** With `!` exceptions, a file deep inside an ignored folder may come back. */
  hasExceptions: boolean;
}

export async function packContext(dir: string, options: PackOptions): Promise<PackedContext> {
  const root = path.resolve(dir);
  const { limits } = options;
  const warnings: string[] = [];

  await requireFolder(root);
  const dockerfile = relativeInside(options.dockerfile);
  if (dockerfile === null) {
    throw new ContextError(`the Dockerfile path ${singleLine(options.dockerfile)} must name a file inside the build context ${singleLine(root)}`);
  }
  const generated = generatedEntries(options.extraFiles ?? []);
  const generatedNames = new Set(generated.map((entry) => entry.name));
  if (!generatedNames.has(dockerfile)) await requireDockerfile(root, dockerfile);
  const rules = await readIgnoreRules(root, limits, warnings);

  const walk = new ContextWalk(root, dockerfile, rules, limits, generatedNames, warnings);
  await walk.run();

  const entries = [...walk.entries, ...generated];
  for (const folder of ancestorsOf(generatedNames)) {
    if (!walk.folders.has(folder)) {
      entries.push({ name: `${folder}/`, kind: 'directory', mode: GENERATED_DIR_MODE, mtime: GENERATED_MTIME });
    }
  }
  // One global order on the archive names: a folder's name is a prefix of its content's, so
  // folders still come before what they hold.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const tar = await writeArchive(entries);
  return { tar, files: walk.files, bytes: walk.bytes, warnings };
}

/** Walks the folder with lstat and decides what goes in the archive, without reading contents. */
class ContextWalk {
  readonly entries: PlannedEntry[] = [];
  /** Folders packed as entries, so generated files do not get a second entry for them. */
  readonly folders = new Set<string>();
  files = 0;
  bytes = 0;
  private others = 0;
  private readonly generatedAncestors: Set<string>;

  constructor(
    private readonly root: string,
    private readonly dockerfile: string,
    private readonly rules: IgnoreRules,
    private readonly limits: ContextLimits,
    private readonly generatedNames: Set<string>,
    private readonly warnings: string[],
  ) {
    this.generatedAncestors = ancestorsOf(generatedNames);
  }

  async run(): Promise<void> {
    // An explicit stack rather than recursion: a deeply nested folder costs heap, not call depth.
    const pending = (await this.list('')).reverse();
    for (let relative = pending.pop(); relative !== undefined; relative = pending.pop()) {
      const children = await this.visit(relative);
      for (const child of children.reverse()) pending.push(child);
    }
  }

  /** Plans one path; returns the children to visit when it is a folder worth walking. */
  private async visit(relative: string): Promise<string[]> {
    const absolute = path.join(this.root, relative);
    const info = await this.lstat(absolute);

    const kept = relative === this.dockerfile || relative === IGNORE_FILE;
    const ignored = !kept && this.rules.ignores(relative);

    // Two entries for one path would leave the image to whichever the engine unpacks last.
    if (this.generatedNames.has(relative) || (this.generatedAncestors.has(relative) && !info.isDirectory())) {
      if (!ignored) this.warnings.push(`${singleLine(relative)} is left out: the grader puts its own generated file at that path`);
      return [];
    }

    if (info.isDirectory()) {
      if (!ignored) {
        this.countOther();
        this.folders.add(relative);
        this.entries.push({ name: `${relative}/`, kind: 'directory', mode: info.mode, mtime: info.mtime });
        return this.list(relative);
      }
      // An ignored folder is not sent itself, but may still hold the Dockerfile or a file an
      // exception brings back; without either, nothing inside can be packed, so skip it whole.
      if (this.rules.hasExceptions || this.dockerfile.startsWith(`${relative}/`)) return this.list(relative);
      return [];
    }
    if (ignored) return [];

    if (info.isFile()) {
      this.countFile(relative, info.size);
      this.entries.push({
        name: relative,
        kind: 'file',
        mode: info.mode,
        mtime: info.mtime,
        size: info.size,
        source: absolute,
      });
    } else if (info.isSymbolicLink()) {
      this.countOther();
      const target = await this.readlink(absolute);
      if (leavesContext(relative, target)) {
        this.warnings.push(
          `${singleLine(relative)} is a link to ${singleLine(target)}, outside the build context: it is sent as a link, ` +
            'so COPY puts a dangling link in the image, not the file it points to',
        );
      }
      this.entries.push({ name: relative, kind: 'symlink', mode: info.mode, mtime: info.mtime, target });
    } else {
      this.warnings.push(`${singleLine(relative)} is a ${specialKind(info)}: skipped, a build context only carries files, folders and links`);
    }
    return [];
  }

  private countFile(relative: string, size: number): void {
    const { maxFiles, maxBytes } = this.limits;
    if (this.files + 1 > maxFiles) {
      throw new ContextError(`build context ${singleLine(this.root)} has more than ${maxFiles} files (limit ${maxFiles}): ${ADVICE}`);
    }
    if (this.bytes + size > maxBytes) throw tooLarge(this.root, this.bytes + size, relative, maxBytes);
    this.files += 1;
    this.bytes += size;
  }

  /** Folders and links carry no content, but each costs a tar header: bound them too. */
  private countOther(): void {
    const { maxFiles } = this.limits;
    if (this.others + 1 > maxFiles) {
      throw new ContextError(`build context ${singleLine(this.root)} has more than ${maxFiles} folders and links (limit ${maxFiles}): ${ADVICE}`);
    }
    this.others += 1;
  }

  private async list(relative: string): Promise<string[]> {
    const absolute = relative === '' ? this.root : path.join(this.root, relative);
    let names: string[];
    try {
      names = await readdir(absolute);
    } catch (error) {
      throw unreadable(error, `folder ${absolute}`);
    }
    names.sort();
    return names.map((name) => (relative === '' ? name : `${relative}/${name}`));
  }

  private async lstat(absolute: string): Promise<Stats> {
    try {
      return await lstat(absolute);
    } catch (error) {
      throw unreadable(error, absolute);
    }
  }

  private async readlink(absolute: string): Promise<string> {
    try {
      return await readlink(absolute);
    } catch (error) {
      throw unreadable(error, `link ${absolute}`);
    }
  }
}

async function requireFolder(root: string): Promise<void> {
  let info: Stats;
  try {
    // The grader chose this path, so a link to the folder is fine here; inside it nothing is followed.
    info = await stat(root);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ContextError(`build context ${singleLine(root)} does not exist`, { cause: error });
    }
    throw unreadable(error, `build context ${root}`);
  }
  if (!info.isDirectory()) throw new ContextError(`build context ${singleLine(root)} does not exist as a folder: it is a file`);
}

async function requireDockerfile(root: string, dockerfile: string): Promise<void> {
  const absolute = path.join(root, dockerfile);
  const shown = singleLine(absolute);
  let info: Stats;
  try {
    info = await lstat(absolute);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ContextError(`no Dockerfile at ${shown}`, { cause: error });
    throw unreadable(error, `Dockerfile ${absolute}`);
  }
  if (info.isDirectory()) throw new ContextError(`no Dockerfile at ${shown}: that is a folder`);

  // The engine resolves the Dockerfile inside the context only: a link, or a folder link on the
  // way, that leads elsewhere would pass here and fail there with a far less readable error.
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(absolute);
  } catch (error) {
    throw new ContextError(`no Dockerfile at ${shown}: it is a link to a file that does not exist`, { cause: error });
  }
  if (real !== path.join(realRoot, dockerfile)) {
    if (!real.startsWith(`${realRoot}${path.sep}`)) {
      throw new ContextError(`the Dockerfile ${shown} leads through a link to ${singleLine(real)}, outside the build context`);
    }
    if (!info.isSymbolicLink()) {
      throw new ContextError(`the Dockerfile path ${singleLine(dockerfile)} goes through a linked folder: name it by its real path inside ${singleLine(root)}`);
    }
  }
  if (!(await stat(real)).isFile()) throw new ContextError(`no Dockerfile at ${shown}: it is not a regular file`);
}

async function readIgnoreRules(root: string, limits: ContextLimits, warnings: string[]): Promise<IgnoreRules> {
  const absolute = path.join(root, IGNORE_FILE);
  let info: Stats;
  try {
    info = await lstat(absolute);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { ignores: () => false, hasExceptions: false };
    throw unreadable(error, absolute);
  }
  if (info.isSymbolicLink()) {
    warnings.push(`${IGNORE_FILE} is a link: it is not followed, so its patterns are not applied`);
    return { ignores: () => false, hasExceptions: false };
  }
  if (!info.isFile()) return { ignores: () => false, hasExceptions: false };
  // It is always packed, so it counts against the size limit: no need to read a huge one.
  if (info.size > limits.maxBytes) throw tooLarge(root, info.size, IGNORE_FILE, limits.maxBytes);

  let text: string;
  try {
    text = await readFile(absolute, { encoding: 'utf8', flag: fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW });
  } catch (error) {
    throw unreadable(error, absolute);
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  // Docker on Linux matches names case-sensitively; the library's default is the opposite.
  const matcher = createIgnore({ ignorecase: false }).add(lines);
  return {
    ignores: (relative) => matcher.ignores(relative),
    hasExceptions: lines.some((line) => line.trim().startsWith('!')),
  };
}

function generatedEntries(extraFiles: { name: string; content: string }[]): PlannedEntry[] {
  const seen = new Set<string>();
  return extraFiles.map(({ name, content }) => {
    const clean = relativeInside(name);
    // The grader's own inputs: a bad name is a bug in the grader, not the student's doing.
    if (clean === null || clean.endsWith('/')) {
      throw new Error(`generated context file ${JSON.stringify(name)} must be a relative file path inside the context`);
    }
    if (seen.has(clean)) throw new Error(`generated context file ${clean} is given twice`);
    seen.add(clean);
    return { name: clean, kind: 'generated', mode: GENERATED_FILE_MODE, mtime: GENERATED_MTIME, content: Buffer.from(content) };
  });
}

/** The normalised relative form of a path that must stay inside the context, or null. */
function relativeInside(name: string): string | null {
  if (name === '' || path.posix.isAbsolute(name)) return null;
  const clean = path.posix.normalize(name);
  if (clean === '.' || clean === './' || clean === '..' || clean.startsWith('../')) return null;
  return clean;
}

function ancestorsOf(names: Iterable<string>): Set<string> {
  const ancestors = new Set<string>();
  for (const name of names) {
    for (let parent = path.posix.dirname(name); parent !== '.'; parent = path.posix.dirname(parent)) {
      ancestors.add(parent);
    }
  }
  return ancestors;
}

/** Whether a link's target, read as the engine would inside the context, lands outside it. */
function leavesContext(relative: string, target: string): boolean {
  if (path.posix.isAbsolute(target)) return true;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(relative), target));
  return resolved === '..' || resolved.startsWith('../');
}

function specialKind(info: Stats): string {
  if (info.isFIFO()) return 'fifo (named pipe)';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice()) return 'character device';
  if (info.isBlockDevice()) return 'block device';
  return 'special file';
}

async function writeArchive(entries: PlannedEntry[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Uint8Array[] = [];
  archive.on('data', (chunk: unknown) => {
    // tar-stream only ever pushes Buffers.
    if (chunk instanceof Uint8Array) chunks.push(chunk);
  });
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  // Nobody awaits `ended` if a file fails to read below; keep that from surfacing as unhandled.
  ended.catch(() => undefined);

  try {
    for (const entry of entries) {
      // One file's contents in memory at a time; the archive itself is bounded by maxBytes.
      const content = entry.kind === 'file' ? await readPlannedFile(entry) : entry.kind === 'generated' ? entry.content : undefined;
      await addEntry(archive, headerFor(entry), content);
    }
    archive.finalize();
    await ended;
  } catch (error) {
    archive.destroy();
    throw error;
  }
  return Buffer.concat(chunks);
}

function headerFor(entry: PlannedEntry): EntryHeader {
  // uid/gid 0 and no user names, as the docker CLI sends: the engine's cache keys include them.
  const common = { name: entry.name, mode: entry.mode, mtime: entry.mtime, uid: 0, gid: 0, uname: '', gname: '' };
  switch (entry.kind) {
    case 'directory':
      return { ...common, type: 'directory' };
    case 'symlink':
      return { ...common, type: 'symlink', linkname: entry.target };
    case 'file':
      return { ...common, type: 'file', size: entry.size };
    case 'generated':
      return { ...common, type: 'file', size: entry.content.length };
  }
}

function addEntry(archive: Pack, header: EntryHeader, content: Buffer | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null): void => (error ? reject(error) : resolve());
    if (content === undefined) archive.entry(header, done);
    else archive.entry(header, content, done);
  });
}

async function readPlannedFile(entry: { name: string; size: number; source: string }): Promise<Buffer> {
  const changed = (): ContextError => new ContextError(`${singleLine(entry.source)} changed while the build context was being packed: run the grader again`);
  let handle: FileHandle | undefined;
  try {
    // No following a link swapped in since the walk, and no blocking on a fifo swapped in either.
    handle = await open(entry.source, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
    const info = await handle.stat();
    // The size was checked against the limits at walk time; only that many bytes are read.
    if (!info.isFile() || info.size !== entry.size) throw changed();
    const content = Buffer.alloc(entry.size);
    for (let filled = 0; filled < entry.size; ) {
      const { bytesRead } = await handle.read(content, filled, entry.size - filled, filled);
      if (bytesRead === 0) throw changed();
      filled += bytesRead;
    }
    return content;
  } catch (error) {
    if (error instanceof ContextError) throw error;
    if (errorCode(error) === 'ELOOP' || errorCode(error) === 'ENOENT') throw new ContextError(changed().message, { cause: error });
    throw unreadable(error, entry.source);
  } finally {
    await handle?.close();
  }
}

function tooLarge(root: string, reached: number, at: string, maxBytes: number): ContextError {
  return new ContextError(
    `build context ${singleLine(root)} is larger than ${formatBytes(maxBytes)}: it reached ${formatBytes(reached)} at ${singleLine(at)} ` +
      `(limit ${formatBytes(maxBytes)}): ${ADVICE}`,
  );
}

/** `subject` names a path from the submission: it is made one line here. */
function unreadable(error: unknown, subject: string): ContextError {
  const what = singleLine(subject);
  const code = errorCode(error);
  if (code === 'EACCES' || code === 'EPERM') {
    return new ContextError(`cannot read ${what}: permission denied; make it readable, or list it in .dockerignore if the image does not need it`, {
      cause: error,
    });
  }
  const reason = code ?? singleLine(error instanceof Error ? error.message : String(error));
  return new ContextError(`cannot read ${what}: ${reason}`, { cause: error });
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
