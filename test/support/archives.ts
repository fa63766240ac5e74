// Builds zip and tar archives in memory for tests, honest or hostile, so no binary file is
// committed. The zip writer is deliberately tiny and lets a test lie: a declared size, a flag, a
// mode, a name no archiver would write.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deflateRawSync, crc32, gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';

export interface ZipEntrySpec {
  /** Written as given: `../x`, `/etc/x`, `C:\x` and NUL bytes included. */
  name: string | Buffer;
  data?: Buffer | string;
  /** 0 stored, 8 deflated (the default), or any other number to claim an unsupported method. */
  method?: number;
  /** st_mode with its type bits, kept in the external attributes; defaults to a file 0644 or a folder 0755. */
  mode?: number;
  /** Extra general-purpose flag bits, e.g. 0x1 (encrypted). */
  flags?: number;
  /** The uncompressed size written into the headers, instead of the real one. */
  declaredSize?: number;
}

export function zipArchive(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? Buffer.from(entry.name, 'utf8') : entry.name;
    const data = typeof entry.data === 'string' ? Buffer.from(entry.data) : (entry.data ?? Buffer.alloc(0));
    const folder = name.at(-1) === 0x2f;
    const method = entry.method ?? (folder || data.length === 0 ? 0 : 8);
    const stored = method === 8 ? deflateRawSync(data) : data;
    const flags = 0x800 | (entry.flags ?? 0);
    const crc = crc32(data);
    const size = entry.declaredSize ?? data.length;
    const mode = entry.mode ?? (folder ? 0o040755 : 0o100644);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date: 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, stored);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode counts
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((mode << 16) | (folder ? 0x10 : 0)) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

export type TarEntrySpec = Partial<Header> & { name: string; data?: Buffer | string };

/** A tar (gzipped when asked) written by tar-stream: it writes devices, FIFOs and links out as readily as files. */
export async function tarArchive(entries: TarEntrySpec[], options: { gzip?: boolean } = {}): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of packer as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const { data, ...header } of entries) {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    await new Promise<void>((resolve, reject) => {
      const type = header.type ?? 'file';
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (type === 'file') packer.entry({ mode: 0o644, ...header, type }, body ?? Buffer.alloc(0), done);
      else packer.entry({ mode: type === 'directory' ? 0o755 : 0o777, ...header, type }, done);
    });
  }
  packer.finalize();
  await reading;
  const tar = Buffer.concat(chunks);
  return options.gzip ? gzipSync(tar) : tar;
}

/** A folder's files and folders as entries, by path under `prefix` (e.g. "alice/" for one top folder); folders end in "/". */
async function entriesOf(dir: string, prefix: string): Promise<{ name: string; data?: Buffer }[]> {
  const found: { name: string; data?: Buffer }[] = prefix ? [{ name: prefix }] : [];
  const walk = async (folder: string, relative: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const name = `${relative}${entry.name}`;
      if (entry.isDirectory()) {
        found.push({ name: `${name}/` });
        await walk(path.join(folder, entry.name), `${name}/`);
      } else {
        found.push({ name, data: await readFile(path.join(folder, entry.name)) });
      }
    }
  };
  await walk(dir, prefix);
  return found;
}

export async function zipFolder(dir: string, file: string, prefix = ''): Promise<void> {
  await writeFile(file, zipArchive(await entriesOf(dir, prefix)));
}

export async function tarGzFolder(dir: string, file: string, prefix = ''): Promise<void> {
  const entries = (await entriesOf(dir, prefix)).map(({ name, data }) => (data ? { name, data } : { name, type: 'directory' as const }));
  await writeFile(file, await tarArchive(entries, { gzip: true }));
}
