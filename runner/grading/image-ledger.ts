// The images gradings created on an engine, so that `grade clean --cache` can give their disk
// back. Builds carry no label of ours (a label is an image of its own on the classic builder, and
// would defeat the cache), so the record lives on the grading machine: one file per engine
// endpoint, one image id per line, appended as builds report new layers.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

export class ImageLedger {
  constructor(readonly file: string) {}

  /** The ledger of the engine at `endpoint`, under GRADE_STATE_DIR or the XDG state folder. */
  static forEngine(endpoint: string, env: NodeJS.ProcessEnv = process.env): ImageLedger {
    const dir = env.GRADE_STATE_DIR || path.join(env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state'), 'grade');
    const key = createHash('sha256').update(endpoint).digest('hex').slice(0, 16);
    return new ImageLedger(path.join(dir, `images-${key}.txt`));
  }

  /** Appends ids; a line is far below PIPE_BUF, so parallel runs never interleave within one. */
  async record(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    await appendFile(this.file, ids.map((id) => `${id}\n`).join(''));
  }

  /** Every id recorded, oldest first, each once. */
  async read(): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return [
      ...new Set(
        text
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => /^(sha256:)?[0-9a-f]{12,64}$/.test(line)),
      ),
    ];
  }

  async replace(ids: string[]): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    await writeFile(this.file, ids.map((id) => `${id}\n`).join(''));
  }
}
