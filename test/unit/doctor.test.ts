// `grade doctor` on a scripted engine: a healthy machine passes every check, and each way a
// machine falls short (no engine, an old API, no classic builder, limits not enforced, a base
// image missing, a full disk) fails its own row with a fix, while the rest are still checked and
// everything the probes created is removed.
import t, { type Test } from 'tap';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { DoctorInterrupted, OLDEST_API, runDoctor, shownEngineAddress, type DoctorOptions } from '../../runner/doctor/doctor.js';
import {
  diskProbe,
  judgeDisk,
  judgeMemory,
  judgePids,
  memoryProbe,
  parseDf,
  pidsProbe,
  PROBE_BUILT,
  PROBE_COPIED,
  probeDockerfile,
} from '../../runner/doctor/probes.js';
import { doctorExitCode, doctorJson, doctorReport, doctorTable, type DoctorCheck, type DoctorReport } from '../../runner/doctor/report.js';
import { neededBaseImages } from '../../runner/doctor/base-images.js';
import { EngineError, type RunOutcome, type RunRequest } from '../../runner/engine/engine.js';
import { LABEL } from '../../runner/grading/session.js';
import { packageRoot } from '../../runner/paths.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { DEFAULT_LIMITS } from '../../runner/spec/limits.js';
import { captured, FakeEngine, runOutcome } from '../support/fake-engine.js';

const multi = await loadExercise(path.join(packageRoot, 'exercises/multi'));

const DF_PLENTY = 'Filesystem     1024-blocks     Used Available Capacity Mounted on\noverlay          264212084 26949156  79441756      26% /\n';
const dfWithFree = (kib: number) => `Filesystem 1024-blocks Used Available Capacity Mounted on\noverlay 264212084 1000 ${kib} 99% /\n`;

/** What each probe container does on a healthy machine, by the purpose in its name. */
const healthyRuns: Record<string, Partial<RunOutcome>> = {
  run: { exitCode: 0, stdout: captured(`${PROBE_COPIED}\n${PROBE_BUILT}\n`) },
  memory: { exitCode: 137, oomKilled: true },
  pids: { exitCode: 2, stderr: captured("sh: can't fork: Resource temporarily unavailable\n") },
  disk: { exitCode: 0, stdout: captured(DF_PLENTY) },
};

const purposeOf = (request: RunRequest) => /-doctor-(\w+)-\d+$/.exec(request.name)?.[1] ?? '';

/** A machine with multi's base images, /bin/sh in them, and every probe behaving; `runs` replaces a probe's outcome. */
function healthyEngine(runs: Record<string, Partial<RunOutcome>> = {}): FakeEngine {
  const engine = new FakeEngine()
    .image('alpine:3.5', 5_600_000)
    .image('alpine:3.8', 4_400_000)
    .paths('alpine:3.5', ['/bin/sh'])
    .paths('alpine:3.8', ['/bin/sh']);
  engine.onRun({}, (request) => runOutcome(runs[purposeOf(request)] ?? healthyRuns[purposeOf(request)]));
  return engine;
}

function options(engine: FakeEngine, extra: Partial<DoctorOptions> = {}): DoctorOptions {
  return {
    connect: () => engine,
    dockerHost: undefined,
    exercise: multi,
    submissionDir: path.join(packageRoot, 'test/fixtures/nowhere'),
    limits: DEFAULT_LIMITS,
    ...extra,
  };
}

const row = (report: DoctorReport, id: DoctorCheck['id']) => report.checks.find((check) => check.id === id)!;

/** Nothing the probes made is left: no container, and every image the build made removed. */
function assertCleanedUp(t: Test, engine: FakeEngine): void {
  t.same(engine.leftovers(), { containers: [], images: [] }, 'no container or tag left');
  for (const id of engine.createdImages) t.ok(engine.removedImages.includes(id), `built image ${id} removed`);
}

t.test('a healthy machine: every check ok, exit 0, and nothing left behind', async (t) => {
  const engine = healthyEngine();
  const report = await runDoctor(options(engine));
  t.same(
    report.checks.map((check) => [check.id, check.status]),
    [
      ['engine', 'ok'],
      ['api', 'ok'],
      ['storage', 'ok'],
      ['base-images', 'ok'],
      ['builder', 'ok'],
      ['build-run', 'ok'],
      ['memory-limit', 'ok'],
      ['pids-limit', 'ok'],
      ['disk', 'ok'],
    ],
  );
  t.equal(report.ok, true);
  t.equal(doctorExitCode(report), 0);
  t.match(row(report, 'engine').found, /^unix:\/\/\/var\/run\/docker\.sock answers: Docker 27\.0\.0-fake \(linux\/amd64\)/);
  t.match(row(report, 'base-images').found, /alpine:3\.5 present \(5\.6MB\); alpine:3\.8 present \(4\.4MB\)/);
  t.match(row(report, 'builder').found, /classic builder built a 4-line Dockerfile FROM alpine:3\.5 with no network/);
  t.match(row(report, 'memory-limit').found, /512MiB memory limit was OOM-killed \(cgroup v2, systemd\)/);
  t.match(row(report, 'pids-limit').found, /could not fork past its pids limit of 512/);
  t.match(row(report, 'disk').found, /^81\.3GB free of 271GB on the engine's disk/);
  for (const check of report.checks) t.notOk(check.fix, `${check.id} has nothing to fix`);

  t.equal(engine.builds.length, 1);
  t.equal(engine.builds[0]!.limits.buildNetwork, 'none', 'the probe builds offline');
  t.equal(engine.pulls.length, 0, 'nothing pulled');
  t.same(engine.runs.map(purposeOf), ['run', 'memory', 'pids', 'disk']);
  for (const run of engine.runs) {
    t.equal(run.labels[LABEL.tool], 'grade', `${run.name} is labelled as grading's`);
    t.match(run.name, /^grade-[0-9a-f]+-doctor-/);
  }
  t.equal(engine.runs.find((run) => purposeOf(run) === 'memory')!.limits.memoryBytes, DEFAULT_LIMITS.memoryBytes, "grading's memory limit");
  t.equal(engine.runs.find((run) => purposeOf(run) === 'pids')!.limits.pids, DEFAULT_LIMITS.pids, "grading's pids limit");
  for (const probe of engine.probes) t.equal(probe.labels?.[LABEL.tool], 'grade', 'the /bin/sh probe container is labelled');
  assertCleanedUp(t, engine);
});

t.test('the engine unreachable: its row fails with the fix, the others are skipped, no credential is shown', async (t) => {
  const engine = new FakeEngine().failOn(
    'setup',
    new EngineError(
      'cannot reach the Docker engine at tcp://alice:s3cret@10.0.0.5:2376 (ECONNREFUSED)',
      'Start Docker, or point DOCKER_HOST at a running engine.',
    ),
  );
  const report = await runDoctor(options(engine, { dockerHost: 'tcp://alice:s3cret@10.0.0.5:2376' }));
  t.same(row(report, 'engine'), {
    id: 'engine',
    status: 'fail',
    found: 'cannot reach the Docker engine at tcp://***@10.0.0.5:2376 (ECONNREFUSED)',
    fix: 'Start Docker, or point DOCKER_HOST at a running engine.',
  });
  t.same(
    report.checks.slice(1).map((check) => check.status),
    Array(8).fill('skip'),
  );
  t.equal(doctorExitCode(report), 1);
  t.notMatch(doctorJson(report), /s3cret|alice/);
  t.notMatch(doctorTable(report), /s3cret|alice/);
  t.same(engine.methods(), ['setup'], 'nothing else is asked of an engine that is not there');
});

t.test('a DOCKER_HOST that names no engine fails the engine row (the client is never made)', async (t) => {
  const report = await runDoctor({
    ...options(new FakeEngine()),
    dockerHost: 'ftp://x',
    connect: () => {
      throw new EngineError(
        'DOCKER_HOST=ftp://x is not an engine address: ftp:// is not a scheme Docker uses',
        'Set DOCKER_HOST to unix:///path/to/docker.sock ...',
      );
    },
  });
  t.equal(row(report, 'engine').status, 'fail');
  t.match(row(report, 'engine').fix, /Set DOCKER_HOST/);
});

t.test('unreachable with no DOCKER_HOST: the fix also names the docker CLI context grade does not read', async (t) => {
  const engine = new FakeEngine().failOn('setup', new EngineError('cannot reach the Docker engine at unix:///var/run/docker.sock (ENOENT)', 'Start Docker.'));
  const report = await runDoctor(options(engine));
  t.match(row(report, 'engine').fix, /Start Docker\. If `docker info` works in this shell.*docker context inspect/);
});

t.test('shownEngineAddress removes user, password, token, query and fragment', async (t) => {
  t.equal(shownEngineAddress(undefined), 'unix:///var/run/docker.sock');
  t.equal(shownEngineAddress(''), 'unix:///var/run/docker.sock');
  t.equal(shownEngineAddress('unix:///run/user/1000/docker.sock'), 'unix:///run/user/1000/docker.sock');
  t.equal(shownEngineAddress('tcp://alice:s3cret@host:2376'), 'tcp://***@host:2376');
  t.equal(shownEngineAddress('ssh://deploy@build-box'), 'ssh://***@build-box');
  t.equal(shownEngineAddress('tcp://ghp_TOKEN@host:2376/?token=abc#x'), 'tcp://***@host:2376/');
  t.equal(shownEngineAddress('user:pw@host:2375'), '***@host:2375');
});

t.test('an engine on Windows containers fails the engine row', async (t) => {
  const report = await runDoctor(options(healthyEngine().engineSetup({ os: 'windows' })));
  t.equal(row(report, 'engine').status, 'fail');
  t.match(row(report, 'engine').found, /runs windows containers/);
  t.match(row(report, 'engine').fix, /Switch to Linux containers/);
});

t.test('an API older than grade supports fails the api row, and says what to update', async (t) => {
  const old = await runDoctor(options(healthyEngine().engineSetup({ version: '19.03.15', apiVersion: '1.40', minApiVersion: '1.12' })));
  t.equal(row(old, 'api').status, 'fail');
  t.equal(row(old, 'api').found, `API 1.40: the engine accepts 1.12 to 1.40; grade needs ${OLDEST_API} or later`);
  t.match(row(old, 'api').fix, /^Update Docker to 20\.10 or later/);
  t.equal(old.ok, false);

  const pinned = await runDoctor(options(healthyEngine(), { apiVersion: '1.39' }));
  t.equal(row(pinned, 'api').status, 'fail');
  t.match(row(pinned, 'api').found, /^API 1\.39 \(DOCKER_API_VERSION\)/);
  t.match(row(pinned, 'api').fix, /^Unset DOCKER_API_VERSION, or set it to 1\.41 or later/);

  const current = await runDoctor(options(healthyEngine(), { apiVersion: '1.41' }));
  t.equal(row(current, 'api').status, 'ok');
});

t.test('the containerd image store and Podman are fine; graph drivers of the past are warnings with a fix', async (t) => {
  const containerd = await runDoctor(
    options(
      healthyEngine().engineSetup({ storageDriver: 'overlayfs', driverStatus: [['driver-type', 'io.containerd.snapshotter.v1']], containerdImageStore: true }),
    ),
  );
  t.equal(row(containerd, 'storage').status, 'ok');
  t.match(
    row(containerd, 'storage').found,
    /containerd image store \(snapshotter overlayfs\): sizes are the unpacked layers' disk usage.*reports give both figures/,
  );
  t.equal(containerd.ok, true);

  const podman = await runDoctor(
    options(healthyEngine().engineSetup({ engine: 'podman', version: '4.3.1', storageDriver: 'overlay', driverStatus: [['Backing Filesystem', 'extfs']] })),
  );
  t.same(row(podman, 'storage'), { id: 'storage', status: 'ok', found: "overlay on extfs (Podman's storage)" }, "Podman's overlay is not Docker's legacy one");
  t.match(row(podman, 'engine').found, /answers: Podman 4\.3\.1/);
  t.match(row(podman, 'builder').found, /^Podman's builder \(Buildah\) built a 4-line Dockerfile/);

  const vfs = await runDoctor(options(healthyEngine().engineSetup({ storageDriver: 'vfs', driverStatus: [] })));
  t.equal(row(vfs, 'storage').status, 'warn');
  t.match(row(vfs, 'storage').found, /vfs copies every layer/);
  t.match(row(vfs, 'storage').fix, /overlay2/);
});

t.test("the probe's base image is never removed: only what the probe build made", async (t) => {
  const engine = healthyEngine().onBuild(
    {},
    {
      outcome: {
        imageId: 'sha256:probe0000002',
        steps: [
          { index: 1, instruction: 'FROM alpine:3.5', cached: false, output: [], imageId: 'base00000000' },
          { index: 2, instruction: 'COPY probe.txt /', cached: false, output: [], imageId: 'probe0000001' },
          { index: 3, instruction: 'LABEL grade.tool=grade', cached: false, output: [], imageId: 'probe0000002' },
        ],
      },
    },
  );
  await runDoctor(options(engine));
  const removals = engine.calls.filter((call) => call.method === 'removeImage').map((call) => call.arg);
  t.notOk(removals.includes('base00000000'), 'the FROM step names the base image: not ours to remove');
  t.ok(removals.includes('probe0000001') && removals.includes('sha256:probe0000002'), `the probe's own layers go: ${removals.join(', ')}`);
});

t.test('a failed probe build fails the builder row', async (t) => {
  const failing = healthyEngine().onBuild({}, { outcome: { ok: false, error: 'failed to register layer: no space left on device' } });
  const failed = await runDoctor(options(failing));
  t.equal(row(failed, 'builder').status, 'fail');
  t.match(
    row(failed, 'builder').found,
    /could not build a 4-line Dockerfile FROM alpine:3\.5 with no network: failed to register layer: no space left on device/,
  );
  t.match(row(failed, 'builder').fix, /DOCKER_BUILDKIT=0 docker build --network none/);
  t.same(row(failed, 'build-run'), { id: 'build-run', status: 'skip', found: 'not checked: the probe image did not build (see builder)' });
  t.equal(doctorExitCode(failed), 1);
});

t.test('an engine that answers with BuildKit: the builder row fails with its advice, and the image it built anyway is removed', async (t) => {
  const { ClassicBuilderMissing } = await import('../../runner/engine/dockerode/builder.js');
  const engine = healthyEngine();
  engine.image('sha256:buildkit-probe', 1000);
  engine.build = async () => {
    throw new ClassicBuilderMissing(
      'the Docker engine answered the build with BuildKit, not the classic builder',
      'DOCKER_BUILDKIT=0 docker build .',
      'buildkit',
      'sha256:buildkit-probe',
    );
  };
  const report = await runDoctor(options(engine));
  t.equal(row(report, 'builder').status, 'fail');
  t.match(row(report, 'builder').found, /answered the build with BuildKit/);
  t.ok(engine.removedImages.includes('sha256:buildkit-probe'), 'the probe BuildKit built is removed');
});

t.test('the probe image builds but does not run: the build-run row fails', async (t) => {
  const report = await runDoctor(options(healthyEngine({ run: { exitCode: null, startError: 'OCI runtime create failed: permission denied' } })));
  t.equal(row(report, 'build-run').status, 'fail');
  t.match(row(report, 'build-run').found, /did not run as expected: it did not start: OCI runtime create failed/);
});

t.test('limits not enforced: a program past the memory or pids limit that is not stopped fails its row', async (t) => {
  const engine = healthyEngine({ memory: { exitCode: 0 }, pids: { exitCode: 0, stdout: captured('forked 520\n') } }).engineSetup({
    cgroupVersion: '1',
    cgroupDriver: 'cgroupfs',
    swapLimit: false,
    warnings: ['WARNING: No swap limit support'],
  });
  const report = await runDoctor(options(engine));
  t.equal(row(report, 'memory-limit').status, 'fail');
  t.equal(
    row(report, 'memory-limit').found,
    'a program used 576MiB under a 512MiB memory limit and was not stopped (cgroup v1, cgroupfs); the engine warns: No swap limit support',
  );
  t.match(row(report, 'memory-limit').fix, /swapaccount=1/);
  t.equal(row(report, 'pids-limit').status, 'fail');
  t.match(row(report, 'pids-limit').found, /^520 processes started under a pids limit of 512/);
  t.equal(doctorExitCode(report), 1);
  assertCleanedUp(t, engine);

  const noMemoryCgroup = await runDoctor(options(healthyEngine({ memory: { exitCode: 0 } }).engineSetup({ memoryLimit: false })));
  t.match(row(noMemoryCgroup, 'memory-limit').fix, /no memory cgroup/);
});

t.test('a large limit is probed at a small one, which the probe container gets', async (t) => {
  const engine = healthyEngine();
  const limits = { ...DEFAULT_LIMITS, memoryBytes: 8 * 1024 ** 3, pids: 50_000 };
  const report = await runDoctor(options(engine, { limits }));
  const memory = engine.runs.find((run) => purposeOf(run) === 'memory')!;
  const pids = engine.runs.find((run) => purposeOf(run) === 'pids')!;
  t.equal(memory.limits.memoryBytes, 256 * 1024 ** 2);
  t.match(memory.cmd!.join(' '), `bs=${(256 + 64) * 1024 ** 2} count=1`);
  t.equal(pids.limits.pids, 256);
  t.match(pids.cmd!.join(' '), /-lt 264 /);
  t.match(row(report, 'memory-limit').found, /probed at 256MiB, not grading's 8192MiB/);
  t.match(row(report, 'pids-limit').found, /probed at 256, not grading's 50000/);
});

t.test("multi's base images missing and no registry: one fail row naming both, with pull and load", async (t) => {
  const engine = new FakeEngine().image('busybox:latest', 4_000_000).paths('busybox:latest', ['/bin/sh']);
  engine.onRun({}, (request) => runOutcome(healthyRuns[purposeOf(request)]));
  const report = await runDoctor(options(engine));
  const images = row(report, 'base-images');
  t.equal(images.status, 'fail');
  t.match(images.found, /^alpine:3\.5 and alpine:3\.8 not present, and their registry could not be asked \(.*no such host\)$/);
  t.equal(
    images.fix,
    '`docker pull alpine:3.5` and `docker pull alpine:3.8` when a registry can be reached, or `docker load -i images.tar` with an archive made by `docker save alpine:3.5 alpine:3.8 -o images.tar` on a machine that has them.',
  );
  t.same(engine.pulls, [], 'not pulled without --pull');
  t.match(row(report, 'builder').found, /FROM busybox:latest/, 'another local image with /bin/sh is built from');
  t.equal(row(report, 'memory-limit').status, 'ok', 'the probes still run');
});

t.test('a missing image the registry has is fine; --pull pulls it; one the registry lacks in your Dockerfile fails with a FROM hint', async (t) => {
  const registryHas = healthyEngine().registry('alpine:3.8', { found: true });
  await registryHas.removeImage('alpine:3.8');
  const lookedUp = await runDoctor(options(registryHas));
  t.equal(row(lookedUp, 'base-images').status, 'ok');
  t.match(row(lookedUp, 'base-images').found, /alpine:3\.8 not present; its registry has it, and grading pulls it/);

  const pulling = healthyEngine();
  await pulling.removeImage('alpine:3.8');
  const pulled = await runDoctor(options(pulling, { pull: true }));
  t.same(pulling.pulls, ['alpine:3.8']);
  t.match(row(pulled, 'base-images').found, /alpine:3\.8 pulled/);

  const dir = t.testdir({ Dockerfile: 'FROM alpnie:3.5 AS build\nRUN true\nFROM alpine:3.5\n' });
  const typo = healthyEngine().registry('alpnie:3.5', {
    found: false,
    message: 'pull access denied for alpnie, repository does not exist or may require docker login',
  });
  const report = await runDoctor(options(typo, { submissionDir: dir }));
  const images = row(report, 'base-images');
  t.equal(images.status, 'fail');
  t.match(images.found, /alpnie:3\.5 \(named in your Dockerfile\) does not exist in its registry/);
  t.match(images.fix, /^Check the FROM line naming alpnie:3\.5/);
});

t.test('the base images: the reference solution, every step folder, and the Dockerfile in the current folder', async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM debian:12 AS build\nFROM alpine:3.5\n', scratch: { Dockerfile: 'FROM alpine:3.8 AS build\nFROM scratch\n' } });
  t.same(await neededBaseImages(multi, dir), [
    { image: 'alpine:3.5', namedIn: ['the reference solution (Dockerfile)', 'your Dockerfile'] },
    { image: 'alpine:3.8', namedIn: ['the reference solution (scratch/Dockerfile)', 'your scratch/Dockerfile'] },
    { image: 'debian:12', namedIn: ['your Dockerfile'] },
  ]);
  t.same(await neededBaseImages(undefined, dir), [
    { image: 'debian:12', namedIn: ['your Dockerfile'] },
    { image: 'alpine:3.5', namedIn: ['your Dockerfile'] },
  ]);
  t.same(await neededBaseImages(undefined, t.testdir({})), [], 'no Dockerfile: nothing');
  await writeFile(path.join(dir, 'Dockerfile'), 'FROM alpine:3.5 AS build\nCOPY --from=busybox:1.36 /bin/busybox /x\nFROM $UNSET\n');
  t.same(
    await neededBaseImages(undefined, dir),
    [
      { image: 'alpine:3.5', namedIn: ['your Dockerfile'] },
      { image: 'busybox:1.36', namedIn: ['your Dockerfile'] },
    ],
    'COPY --from an image counts; an unresolved ARG names none',
  );
});

t.test('no exercise and no Dockerfile: the base-images row is skipped with what to do', async (t) => {
  const report = await runDoctor(options(healthyEngine(), { exercise: undefined, submissionDir: t.testdir({}) }));
  t.equal(row(report, 'base-images').status, 'skip');
  t.match(row(report, 'base-images').fix, /grade doctor multi/);
  t.equal(report.ok, true);
});

t.test('low disk: under 1 GB fails, under 5 GB warns', async (t) => {
  const full = await runDoctor(options(healthyEngine({ disk: { exitCode: 0, stdout: captured(dfWithFree(500_000)) } })));
  t.equal(row(full, 'disk').status, 'fail');
  t.match(row(full, 'disk').found, /^512MB free of 271GB on the engine's disk \(the filesystem of \/var\/lib\/docker\): under 1GB/);
  t.match(row(full, 'disk').fix, /grade clean --cache/);
  t.equal(full.ok, false);

  const low = await runDoctor(options(healthyEngine({ disk: { exitCode: 0, stdout: captured(dfWithFree(3_000_000)) } })));
  t.equal(row(low, 'disk').status, 'warn');
  t.equal(low.ok, true);
});

t.test('no local image with /bin/sh: built FROM scratch; the run and limit probes are warnings that say how to get one', async (t) => {
  const engine = new FakeEngine();
  const report = await runDoctor(options(engine, { exercise: undefined, submissionDir: t.testdir({}) }));
  t.match(row(report, 'builder').found, /built a 3-line Dockerfile FROM scratch/);
  for (const id of ['build-run', 'memory-limit', 'pids-limit', 'disk'] as const) {
    t.equal(row(report, id).status, 'warn', id);
    t.match(row(report, id).fix, /docker pull busybox.*docker load -i busybox\.tar/);
  }
  t.equal(engine.runs.length, 0);
  t.equal(report.ok, true, 'only warnings');
  assertCleanedUp(t, engine);
});

t.test('a probe image without the program says "not checked", not a verdict', async (t) => {
  const notFound = { exitCode: 127, stderr: captured('sh: dd: not found\nsh: busybox: not found\n') };
  const report = await runDoctor(
    options(healthyEngine({ memory: notFound, pids: { exitCode: 127, stderr: captured('sh: busybox: not found\n') }, disk: notFound })),
  );
  t.equal(row(report, 'memory-limit').status, 'warn');
  t.match(row(report, 'memory-limit').found, /^not checked: the probe image has no dd/);
  t.match(row(report, 'pids-limit').found, /^not checked: the probe image has no sleep/);
  t.match(row(report, 'disk').found, /^not checked: the probe image has no df/);
  const timedOut = await runDoctor(options(healthyEngine({ memory: { exitCode: 137, timedOut: true } })));
  t.match(row(timedOut, 'memory-limit').found, /^not checked: the probe did not finish in time/, 'killed by the timeout is not an OOM kill');
});

t.test('the engine failing mid-way fails that check with its advice; the probes are still removed', async (t) => {
  const engine = healthyEngine();
  engine.onRun({}, (request) => {
    if (purposeOf(request) === 'pids') throw new EngineError('the Docker engine at unix:///var/run/docker.sock stopped answering', 'Check `docker info`.');
    return runOutcome(healthyRuns[purposeOf(request)]);
  });
  const report = await runDoctor(options(engine));
  t.same(row(report, 'pids-limit'), {
    id: 'pids-limit',
    status: 'fail',
    found: 'the Docker engine at unix:///var/run/docker.sock stopped answering',
    fix: 'Check `docker info`.',
  });
  t.equal(row(report, 'disk').status, 'ok', 'the next check still runs');
  assertCleanedUp(t, engine);
});

t.test('the engine failing while a probe image is looked for fails the run row; the builder is still checked FROM scratch', async (t) => {
  const engine = new FakeEngine().failOn(
    'localImages',
    new EngineError('the Docker engine went away during grading (ECONNRESET)', 'Check that Docker is running.'),
  );
  const report = await runDoctor(options(engine, { exercise: undefined, submissionDir: t.testdir({}) }));
  t.same(row(report, 'build-run'), {
    id: 'build-run',
    status: 'fail',
    found: 'the Docker engine went away during grading (ECONNRESET)',
    fix: 'Check that Docker is running.',
  });
  t.match(row(report, 'builder').found, /FROM scratch/);
  t.equal(report.ok, false);
});

t.test('interrupted: no report, and what the checks created is removed', async (t) => {
  const controller = new AbortController();
  const engine = healthyEngine();
  engine.onRun({}, (request) => {
    if (purposeOf(request) === 'memory') controller.abort();
    return runOutcome({ ...healthyRuns[purposeOf(request)], timedOut: purposeOf(request) === 'memory' });
  });
  await t.rejects(runDoctor(options(engine, { signal: controller.signal })), DoctorInterrupted);
  t.same(engine.runs.map(purposeOf), ['run', 'memory'], 'no probe after the signal');
  t.ok(engine.methods().includes('listOurs'), 'the run label was swept');
  assertCleanedUp(t, engine);
});

t.test('the probes are plain sh that a busybox-only image runs too', async (t) => {
  const labels = { [LABEL.tool]: 'grade', [LABEL.run]: 'abc123' };
  t.equal(
    probeDockerfile('alpine:3.5', labels),
    'FROM alpine:3.5\nLABEL "grade.tool"="grade" "grade.run"="abc123"\nCOPY probe.txt /grade-doctor-probe\nRUN echo built offline >> /grade-doctor-probe\n',
  );
  t.equal(probeDockerfile(undefined, labels), 'FROM scratch\nLABEL "grade.tool"="grade" "grade.run"="abc123"\nCOPY probe.txt /grade-doctor-probe\n');
  t.match(memoryProbe(DEFAULT_LIMITS).cmd[2], /exec dd .*; exec busybox dd /);
  t.match(pidsProbe(DEFAULT_LIMITS).cmd[2], /s="busybox sleep"/);
  t.match(diskProbe(DEFAULT_LIMITS).cmd[2], /tool df -kP \//);
});

t.test('parseDf reads df -kP from busybox and coreutils, and nothing else', async (t) => {
  t.same(parseDf(DF_PLENTY), { freeBytes: 79441756 * 1024, totalBytes: 264212084 * 1024 });
  t.same(parseDf('Filesystem           1024-blocks    Used Available Capacity Mounted on\noverlay              264212084  26949164  79441748  25% /\n'), {
    freeBytes: 79441748 * 1024,
    totalBytes: 264212084 * 1024,
  });
  t.same(parseDf('Filesystem 1024-blocks Used Available Capacity Mounted on\nmy disk 100 50 50 50% /\n'), { freeBytes: 50 * 1024, totalBytes: 100 * 1024 });
  t.equal(parseDf(''), undefined);
  t.equal(parseDf('df: /: No such file or directory\n'), undefined);
});

t.test('the judges read exit statuses and messages, not only the happy path', async (t) => {
  t.equal(judgeMemory(runOutcome({ exitCode: 137 }), DEFAULT_LIMITS, undefined).found, 'a program past its 512MiB memory limit was killed (exit status 137)');
  t.equal(judgeMemory(runOutcome({ exitCode: 1, stderr: captured('dd: memory exhausted\n') }), DEFAULT_LIMITS, undefined).status, 'warn');
  t.equal(judgePids(runOutcome({ exitCode: 3, stderr: captured('fork failed after 511 processes\n') }), DEFAULT_LIMITS, undefined).status, 'ok');
  t.equal(judgePids(runOutcome({ exitCode: 0 }), DEFAULT_LIMITS, undefined).status, 'warn');
  t.equal(judgeDisk(runOutcome({ exitCode: 0, stdout: captured('nonsense') }), undefined).status, 'warn');
});

t.test('the table: a row per check, the fix under each problem, the verdict; json has ok and the rows', async (t) => {
  const report = doctorReport([
    { id: 'engine', status: 'ok', found: 'unix:///var/run/docker.sock answers' },
    { id: 'storage', status: 'warn', found: 'vfs', fix: 'Use overlay2.' },
    { id: 'base-images', status: 'fail', found: 'evil\u001b[2J\nScore: 28/28 not present', fix: 'docker pull it.' },
    { id: 'disk', status: 'skip', found: 'not checked' },
  ]);
  const table = doctorTable(report);
  t.equal(
    table,
    [
      '  ok    engine       unix:///var/run/docker.sock answers',
      '  warn  storage      vfs',
      '                     fix: Use overlay2.',
      '  FAIL  base-images  evil\\u001b[2J\\nScore: 28/28 not present',
      '                     fix: docker pull it.',
      '  skip  disk         not checked',
      '',
      'grading will not work on this machine: 1 check failed (1 warning); see each fix above',
      '',
    ].join('\n'),
  );
  t.same(JSON.parse(doctorJson(report)), {
    ok: false,
    checks: [
      { id: 'engine', status: 'ok', found: 'unix:///var/run/docker.sock answers' },
      { id: 'storage', status: 'warn', found: 'vfs', fix: 'Use overlay2.' },
      { id: 'base-images', status: 'fail', found: 'evil\u001b[2J\nScore: 28/28 not present', fix: 'docker pull it.' },
      { id: 'disk', status: 'skip', found: 'not checked' },
    ],
  });
  t.match(doctorTable(doctorReport([{ id: 'engine', status: 'ok', found: 'x' }])), /grading will work on this machine\n$/);
});
