// The shipped CI and Kubernetes examples: both parse, fan out into N shards that merge, and every
// `grade` command they run is accepted by the built CLI. The commands run through a real shell
// (bash for Actions, sh for the pod), with the variables an Actions runner or the Job controller
// sets, and `--dry-run` so that no engine is needed.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { exerciseHash, GRADEBOOK_VERSION, type Shard, writeManifest, writeRecord } from '../../runner/batch/gradebook.js';
import { shardOf } from '../../runner/batch/shard.js';
import { packageRoot } from '../../runner/paths.js';
import { loadExercise } from '../../runner/spec/loader.js';
import { version } from '../../runner/version.js';
import { cliPath } from '../support/cli.js';

const run = promisify(execFile);
const STUDENTS = ['single-stage', 'wrong-output'];
const specHash = await exerciseHash(await loadExercise(path.join(packageRoot, 'exercises/multi')));

// biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document is walked by hand and checked as it goes.
type Yaml = any;

async function documents(relative: string): Promise<Yaml[]> {
  const text = await readFile(path.join(packageRoot, relative), 'utf8');
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error(`${relative}: not a YAML stream`);
  for (const doc of docs) if (doc.errors.length) throw new Error(`${relative}: ${doc.errors[0]!.message}`);
  return docs.map((doc) => doc.toJS());
}

/** The `grade ...` command lines of a shell script: continuations joined, a leading `exec` dropped. */
function gradeCommands(script: string): string[] {
  return script
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim().replace(/^exec\s+/, ''))
    .filter((line) => /^grade\s/.test(line));
}

/** A folder of fixture submissions, as a class folder holds them. */
async function classFolder(dir: string): Promise<void> {
  for (const student of STUDENTS) await cp(path.join(packageRoot, 'test/fixtures/submissions', student), path.join(dir, student), { recursive: true });
}

/** A finished shard gradebook of STUDENTS, written by hand: what `grade merge` reads. */
async function shardGradebook(dir: string, shard: Shard): Promise<void> {
  const grader = { name: 'grade' as const, version };
  await writeManifest(dir, {
    gradebookVersion: GRADEBOOK_VERSION,
    exercise: 'multi',
    title: 'multi',
    exerciseHash: specHash,
    grader,
    engine: null,
    shard,
    classListing: STUDENTS,
    skipped: [],
    referenceFingerprint: null,
  });
  for (const student of STUDENTS.filter((each) => shardOf(each, shard.total) === shard.index)) {
    await writeRecord(dir, {
      student,
      entry: student,
      status: 'error',
      score: 0,
      maxScore: 28,
      passed: false,
      message: 'written by the test',
      points: {},
      images: [],
      hasResult: false,
      machineFault: false,
      contentHash: student,
      exerciseHash: specHash,
      grader,
      fingerprint: null,
      imageBounds: {},
      finishedAt: '2025-01-01T00:00:00.000Z',
      durationMs: 0,
    });
  }
}

/** `grade` on PATH as the built CLI, so a script's `grade` and `exec grade` both find it. */
async function gradeOnPath(dir: string): Promise<NodeJS.ProcessEnv> {
  await mkdir(dir, { recursive: true });
  const wrapper = path.join(dir, 'grade');
  await writeFile(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} "$@"\n`);
  await chmod(wrapper, 0o755);
  return { ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH}`, FORCE_COLOR: undefined, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
}

async function shell(shellName: 'bash' | 'sh', script: string, options: { cwd: string; env: NodeJS.ProcessEnv }) {
  try {
    const { stdout, stderr } = await run(shellName, ['-c', script], { ...options, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const root = t.testdir({});

t.before(() => {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
});

t.test('the GitHub Actions workflow: a matrix of N shards, then a merge of their artifacts', async (t) => {
  const [workflow, ...more] = await documents('examples/github-actions/grade-class.yml');
  t.equal(more.length, 0, 'one document');
  t.ok(workflow.on && 'workflow_dispatch' in workflow.on, 'started by hand (workflow_dispatch)');
  const { grade, merge } = workflow.jobs;
  const shards: number[] = grade.strategy.matrix.shard;
  const total = shards.length;
  t.ok(total >= 2, `${total} shards`);
  t.same(
    shards,
    Array.from({ length: total }, (_, i) => i + 1),
    'the matrix lists shards 1..N',
  );
  t.equal(grade.strategy['fail-fast'], false, 'a failing shard does not cancel the others');
  t.match(grade['runs-on'], /^ubuntu-/, 'an Ubuntu runner, which has Docker');
  t.same([merge.needs].flat(), ['grade'], 'the merge waits for every shard');

  const substitute = (text: string, shard: number) => {
    const done = text.replaceAll('${{ matrix.shard }}', String(shard)).replaceAll('${{ strategy.job-total }}', String(total));
    t.notMatch(done, /\$\{\{/, `no other expression in: ${text}`);
    return done;
  };
  const steps = (job: Yaml): Yaml[] => job.steps;
  const batchLines = steps(grade).flatMap((step) => (step.run ? gradeCommands(step.run) : []));
  t.equal(batchLines.length, 1, 'the grade job runs one grade command');
  const batchLine = batchLines[0] ?? '';
  t.match(batchLine, /^grade batch /);
  const upload = steps(grade).find((step) => String(step.uses).startsWith('actions/upload-artifact@'));
  t.ok(upload, 'each shard uploads its gradebook');
  t.ok(upload.if?.includes('!cancelled()'), 'even when grading failed half-way');
  const download = steps(merge).find((step) => String(step.uses).startsWith('actions/download-artifact@'));
  t.ok(download, 'the merge downloads the shards');
  t.notOk(download.with.name, 'by pattern: each artifact lands in a folder of its name');
  t.notOk(download.with['merge-multiple'], 'not merged into one folder');
  const mergeLines = steps(merge).flatMap((step) => (step.run ? gradeCommands(step.run) : []));
  t.equal(mergeLines.length, 1, 'the merge job runs one grade command');
  const mergeLine = mergeLines[0] ?? '';
  t.match(mergeLine, /^grade merge /);
  t.ok(
    steps(merge).some((step) => String(step.uses).startsWith('actions/upload-artifact@') && step.with.path === mergeLine.match(/--out (\S+)/)?.[1]),
    'the merged gradebook is uploaded',
  );

  const workspace = path.join(root, 'actions');
  await classFolder(path.join(workspace, 'submissions'));
  const env = await gradeOnPath(path.join(root, 'actions-bin'));
  for (const shard of shards) {
    const line = substitute(batchLine, shard);
    const out = line.match(/--out (\S+)/)?.[1];
    t.match(line, new RegExp(`--shard ${shard}/${total}(\\s|$)`), `shard ${shard}: --shard ${shard}/${total}`);
    t.equal(substitute(upload.with.path, shard), out, `shard ${shard}: the folder graded into is the one uploaded`);
    const result = await shell('bash', `${line} --dry-run`, { cwd: workspace, env });
    t.equal(result.code, 0, `shard ${shard}: \`${line} --dry-run\` is accepted${result.stderr ? `: ${result.stderr.trim()}` : ''}`);
    t.match(result.stdout, `${shard}/${total}`, `shard ${shard}: the plan names the shard`);
    // Where download-artifact puts this shard: <path>/<artifact name>.
    await shardGradebook(path.join(workspace, download.with.path ?? '.', substitute(upload.with.name, shard)), { index: shard, total });
  }
  const result = await shell('bash', `${mergeLine} --dry-run`, { cwd: workspace, env });
  t.equal(result.code, 0, `\`${mergeLine} --dry-run\` is accepted${result.stderr ? `: ${result.stderr.trim()}` : ''}`);
  t.match(result.stdout, `would merge ${total} shards of multi: ${STUDENTS.length} students`, 'the downloaded folders match its pattern');
});

t.test('the Kubernetes manifest: an Indexed Job of N shards beside an engine, then a merge Job', async (t) => {
  const docs = await documents('examples/kubernetes/grade-class-job.yaml');
  const jobs = docs.filter((doc) => doc?.kind === 'Job');
  const grading = jobs.find((job) => job.spec.completionMode === 'Indexed');
  t.ok(grading, 'an Indexed Job grades');
  const total: number = grading.spec.completions;
  t.ok(total >= 2, `${total} shards`);
  t.equal(grading.spec.parallelism, total, 'parallelism equals completions: every shard at once');
  const pod = grading.spec.template.spec;
  t.equal(pod.restartPolicy, 'Never');

  const sidecar = (pod.initContainers ?? []).find((container: Yaml) => /^docker:.*dind/.test(container.image));
  t.ok(sidecar, 'a Docker-in-Docker container');
  t.equal(sidecar.restartPolicy, 'Always', 'as a native sidecar, which stops when the grader is done');
  t.equal(sidecar.securityContext?.privileged, true, 'privileged, as dind needs');
  t.ok(sidecar.startupProbe, 'the grader waits until the engine answers');
  const [grader, ...others] = pod.containers;
  t.equal(others.length, 0, 'one main container');
  const dockerHost: string = grader.env.find((variable: Yaml) => variable.name === 'DOCKER_HOST')?.value;
  t.match(dockerHost, /^unix:\/\//, 'DOCKER_HOST names the sidecar’s socket');
  t.match(sidecar.args.join(' '), dockerHost, 'where the sidecar listens');
  t.notMatch(sidecar.args.join(' '), /tcp:\/\//, 'and nowhere on the pod network');
  const socketDir = path.posix.dirname(dockerHost.slice('unix://'.length));
  const mountOf = (container: Yaml) => container.volumeMounts.find((mount: Yaml) => mount.mountPath === socketDir)?.name;
  t.ok(mountOf(grader), 'the socket folder is a volume of the grader');
  t.equal(mountOf(sidecar), mountOf(grader), 'shared with the sidecar');

  const script = (container: Yaml) => [...(container.command ?? []), ...(container.args ?? [])].at(-1) as string;
  t.same(grader.command, ['sh', '-c'], 'a shell evaluates $((...))');
  const [batchLine = '', ...moreBatch] = gradeCommands(script(grader));
  t.equal(moreBatch.length, 0, 'the pod runs one grade command');
  t.match(batchLine, /^grade batch /);
  t.match(batchLine, new RegExp(`--shard \\$\\(\\(JOB_COMPLETION_INDEX\\+1\\)\\)/${total}(\\s|$)`), 'shard index+1 of N, N being completions');
  const merging = jobs.find((job) => job !== grading);
  t.ok(merging, 'a second Job merges');
  const mergeContainer = merging.spec.template.spec.containers[0];
  const [mergeLine = ''] = gradeCommands(script(mergeContainer));
  t.match(mergeLine, /^grade merge /);
  const claims = (job: Yaml) =>
    Object.fromEntries(
      job.spec.template.spec.volumes
        .filter((volume: Yaml) => volume.persistentVolumeClaim)
        .map((volume: Yaml) => [volume.name, volume.persistentVolumeClaim.claimName]),
    );
  const claimNames = docs.filter((doc) => doc?.kind === 'PersistentVolumeClaim').map((doc) => doc.metadata.name);
  for (const claim of Object.values(claims(grading))) t.ok(claimNames.includes(claim), `the claim ${claim} is in the manifest`);
  t.same(Object.values(claims(merging)), Object.values(claims(grading)), 'the merge reads the volume the shards wrote');

  // The volumes as folders here: each mount path of a claim becomes <root>/kubernetes/<claim>/<subPath>.
  const volumeRoot = path.join(root, 'kubernetes');
  const mounts = (container: Yaml, job: Yaml) =>
    container.volumeMounts
      .filter((mount: Yaml) => claims(job)[mount.name])
      .map((mount: Yaml) => ({ mountPath: mount.mountPath as string, local: path.join(volumeRoot, claims(job)[mount.name], mount.subPath ?? '') }));
  const localise = (line: string, container: Yaml, job: Yaml) =>
    mounts(container, job).reduce(
      (text: string, { mountPath, local }: { mountPath: string; local: string }) => text.replace(new RegExp(`(?<=\\s)${mountPath}(?=/|\\s|$)`, 'g'), local),
      line,
    );
  const classMount = mounts(grader, grading).find((mount: { mountPath: string }) => batchLine.includes(` ${mount.mountPath} `));
  t.ok(classMount, 'the class folder is on the volume');
  await classFolder(classMount.local);
  const env = await gradeOnPath(path.join(root, 'kubernetes-bin'));
  const localBatch = localise(batchLine, grader, grading);
  t.notMatch(localBatch, /\s\/(class|gradebook)/, 'every path is on a volume');
  for (let index = 0; index < total; index++) {
    const result = await shell('sh', `${localBatch} --dry-run`, { cwd: root, env: { ...env, JOB_COMPLETION_INDEX: String(index) } });
    t.equal(result.code, 0, `JOB_COMPLETION_INDEX=${index}: accepted${result.stderr ? `: ${result.stderr.trim()}` : ''}`);
    t.match(result.stdout, `${index + 1}/${total}`, `JOB_COMPLETION_INDEX=${index} grades shard ${index + 1}/${total}`);
    // The shard's gradebook where the pod writes it: --out with the index evaluated as sh does.
    const { stdout: out } = await run('sh', ['-c', `printf %s ${localBatch.match(/--out (\S+)/)![1]}`], {
      env: { ...env, JOB_COMPLETION_INDEX: String(index) },
    });
    await shardGradebook(out, { index: index + 1, total });
  }
  const result = await shell('sh', `${localise(mergeLine, mergeContainer, merging)} --dry-run`, { cwd: root, env });
  t.equal(result.code, 0, `\`${mergeLine} --dry-run\` is accepted${result.stderr ? `: ${result.stderr.trim()}` : ''}`);
  t.match(result.stdout, `would merge ${total} shards of multi: ${STUDENTS.length} students`, 'the shards the pods wrote match its glob');
});

t.test('the built CLI refuses a merge with a missing shard: one line, exit 2', async (t) => {
  const env = await gradeOnPath(path.join(root, 'refusal-bin'));
  const dir = path.join(root, 'refusal', 'gradebook-1');
  await shardGradebook(dir, { index: 1, total: 2 });
  const result = await shell('sh', `grade merge ${dir} --out ${path.join(root, 'refusal', 'merged')}`, { cwd: root, env });
  t.equal(result.code, 2);
  t.equal(result.stderr, 'grade: missing shard 2/2: merge the folders of all 2 shards (1 given)\n');
  t.equal(result.stdout, '');
});
