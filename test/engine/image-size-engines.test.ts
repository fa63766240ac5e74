// One meaning of image size on every engine (issue 11): the same images, built from the fixture
// images on each engine of the matrix, have there the size they have on the main engine's overlay2,
// exactly on Docker's graph drivers and within a stated margin where the engine can only give its
// own measure of the unpacked layers. CI names the extra engines in GRADE_ENGINES and fails on one
// that does not answer; locally, the extra engines that answer are used and the others skipped.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { dialectOf } from '../../runner/engine/dockerode/dialect.js';
import type { DockerEngine, ImageInfo } from '../../runner/engine/engine.js';
import { packContext } from '../../runner/submission/build-context.js';
import { formatSize } from '../../runner/text/format.js';
import { FIXTURE_IMAGES, realEngine, standInSolution, testLimits } from '../support/engine.js';
import { extraEngines } from '../support/engines.js';

// Each engine builds every stage anew (a label of this run after each FROM), side by side on two cores.
t.setTimeout(20 * 60_000);

/** How far over overlay2's figure an image store's measure of the unpacked layers may be, and why. */
interface Margin {
  store: string;
  over: number;
  why: string;
}

const EXACT: Margin = { store: 'a graph driver', over: 0, why: 'the same measure as the main engine' };
// Measured on the fixture images and the reference's three images (docs/engines.md): +0.9 % (the
// runtime images) to +7.0 % (the toolchain); the margin leaves room for toolchains with more small files.
const CONTAINERD: Margin = {
  store: 'the containerd image store',
  over: 0.1,
  why: "its history gives each layer's disk usage, 4 KiB blocks per file and folder",
};
// Measured +0.24 % (the scratch image) to +2.1 % (the toolchain).
const PODMAN: Margin = { store: 'Podman', over: 0.04, why: "its history gives each layer's tar stream, 512 bytes of header and padding per file" };

async function marginOf(docker: Docker): Promise<Margin> {
  return { graph: EXACT, containerd: CONTAINERD, podman: PODMAN }[dialectOf(await docker.info()).imageStore];
}

const main = await realEngine(t);

if (main) {
  const mainDocker = new Docker();
  const mainMargin = await marginOf(mainDocker);
  const { ready, broken, skipped } = await extraEngines();

  for (const { name, problem } of broken) {
    t.test(`${name} answers and holds the fixture images`, async (t) => {
      t.fail(`GRADE_ENGINES names ${name}, and it cannot be measured: ${problem}`);
    });
  }
  for (const { name, problem } of skipped) t.test(name, { skip: problem }, async () => {});

  if (mainMargin !== EXACT) {
    // The reference figure is overlay2's; on another store there is nothing to hold the others to.
    const problem = `the main engine keeps its images on ${mainMargin.store}, not in a graph driver such as overlay2`;
    if (process.env.CI) t.fail(problem);
    else t.test('sizes against overlay2', { skip: problem }, async () => {});
  } else if (ready.length) {
    const token = randomBytes(6).toString('hex');
    const label = 'grade.test.image-size';
    // The reference solution's three images; a label of this run after each FROM makes every image
    // they build this test's own, and removable by that label.
    const dir = await standInSolution(t.testdir());
    for (const dockerfile of [path.join(dir, 'Dockerfile'), path.join(dir, 'scratch/Dockerfile')]) {
      const text = await readFile(dockerfile, 'utf8');
      await writeFile(dockerfile, text.replace(/^(FROM .*)$/gm, `$1\nLABEL ${label}=${token}`));
    }
    const images = [
      { name: 'large (the toolchain stage)', dir, target: 'build' },
      { name: 'small (the runtime stage)', dir },
      { name: 'sleep (scratch, a static binary)', dir: path.join(dir, 'scratch') },
    ];

    type Measured = { name: string; info?: ImageInfo; problem?: string; listed?: number }[];

    const ours = async (docker: Docker) => docker.listImages({ all: true, filters: JSON.stringify({ label: [`${label}=${token}`] }) });

    /** Builds the images on one engine, measures them and the fixtures, then removes what it built. */
    const measureOn = async (engine: DockerEngine, docker: Docker): Promise<{ measured: Measured; left: string[] }> => {
      const measured: Measured = [];
      try {
        for (const image of FIXTURE_IMAGES) measured.push({ name: image, info: await engine.inspectImage(image) });
        for (const image of images) {
          const context = await packContext(image.dir, {
            dockerfile: 'Dockerfile',
            limits: { maxBytes: testLimits.contextBytes, maxFiles: testLimits.contextFiles },
          });
          const outcome = await engine.build({ context: Readable.from([context.tar]), dockerfile: 'Dockerfile', target: image.target, limits: testLimits });
          if (!outcome.ok) {
            measured.push({ name: image.name, problem: `the build failed: ${outcome.error ?? outcome.log.slice(-500)}` });
            continue;
          }
          const info = await engine.inspectImage(outcome.imageId!);
          // What the engine's own `docker image ls` says of it.
          const listing = (await ours(docker)).find((entry) => entry.Id === info?.id || `sha256:${entry.Id}` === info?.id);
          measured.push({ name: image.name, info, listed: listing?.Size });
        }
      } finally {
        // Children before parents; an engine that prunes parents anyway (Podman) leaves them absent.
        for (let pass = 0; pass < 20; pass++) {
          const left = await ours(docker);
          if (!left.length) break;
          let removed = 0;
          for (const image of left) if ((await engine.removeImage(image.Id)) !== 'in-use') removed++;
          if (!removed) break;
        }
      }
      return { measured, left: (await ours(docker)).map((image) => image.Id) };
    };

    const [onMain, ...onExtra] = await Promise.all([
      measureOn(main, mainDocker),
      ...ready.map(async ({ engine, socketPath }) => {
        const docker = new Docker({ socketPath });
        return { margin: await marginOf(docker), ...(await measureOn(engine, docker)) };
      }),
    ]);

    t.test('main engine: the images build, and their size is what its docker image ls shows', async (t) => {
      for (const { name, info, problem, listed } of onMain.measured) {
        t.notOk(problem, `${name} builds`);
        t.equal(info?.listedSizeBytes, undefined, `${name}: no other listing figure on overlay2`);
        if (listed !== undefined) t.equal(info?.sizeBytes, listed, `${name}: ${listed} bytes, as listed`);
      }
      t.same(onMain.left, [], 'nothing the test built is left');
    });

    ready.forEach(({ name, info: engineInfo }, index) => {
      const { margin, measured, left } = onExtra[index]!;
      t.test(`${name} (${engineInfo.version}, ${margin.store}): each image has its size on overlay2`, async (t) => {
        for (const [at, { name: image, info, problem, listed }] of measured.entries()) {
          const expected = onMain.measured[at]!.info?.sizeBytes;
          if (problem || !info || expected === undefined) {
            t.fail(`${image}: ${problem ?? 'not measured'} on ${name}${expected === undefined ? ', and not on the main engine' : ''}`);
            continue;
          }
          const over = info.sizeBytes / expected - 1;
          console.log(`# image size: ${name}: ${image}: ${info.sizeBytes} bytes, overlay2 ${expected} (${(over * 100).toFixed(2)} %)`);
          if (margin.over === 0) t.equal(info.sizeBytes, expected, `${image}: ${expected} bytes, byte for byte`);
          else {
            t.ok(
              info.sizeBytes >= expected && over <= margin.over,
              `${image}: ${info.sizeBytes} bytes is overlay2's ${expected} to ${margin.over * 100} % over (${(over * 100).toFixed(2)} %: ${margin.why})`,
            );
          }
          if (listed !== undefined) {
            // The note beside the size must name what the student's own listing shows.
            t.equal(
              formatSize(info.listedSizeBytes ?? info.sizeBytes),
              formatSize(listed),
              `${image}: docker image ls shows ${formatSize(listed)}, as the report says`,
            );
          }
          if (info.listedSizeBytes !== undefined) t.ok(info.listedSizeWhy, `${image}: the report says why the listing differs`);
        }
        t.same(left, [], 'nothing the test built is left');
      });
    });
  }
}
