// `grade doctor` as installed, on the real engine: every check of a working machine, the base
// images of multi looked up without pulling (no registry answers here), nothing left behind;
// and an engine that cannot be reached, which fails its row with a fix and no stack.
import t from 'tap';
import { LABEL } from '../../runner/grading/session.js';
import { runCli } from '../support/cli.js';
import { realEngine } from '../support/engine.js';

const engine = await realEngine(t);

interface Row {
  id: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  found: string;
  fix?: string;
}

if (engine) {
  t.test('grade doctor multi: the engine, the builder, the run and the limits are ok; the base images say whether they are here', async (t) => {
    const run = await runCli(['doctor', 'multi', '--reporter', 'json']);
    const report = JSON.parse(run.stdout) as { ok: boolean; checks: Row[] };
    const row = (id: string) => report.checks.find((check) => check.id === id)!;
    t.same(
      report.checks.map((check) => check.id),
      ['engine', 'api', 'storage', 'base-images', 'builder', 'build-run', 'memory-limit', 'pids-limit', 'disk'],
    );
    const info = await engine.setup();
    t.equal(row('engine').status, 'ok');
    t.match(row('engine').found, `answers: Docker ${info.version} (${info.os}/${info.arch})`);
    t.equal(row('api').status, 'ok');
    t.match(row('api').found, `API ${info.apiVersion}`);
    t.match(row('storage'), { status: /^(ok|warn)$/, found: info.containerdImageStore ? /containerd image store/ : info.storageDriver });
    t.match(row('builder'), { status: 'ok', found: /^the classic builder built a 4-line Dockerfile FROM \S+ with no network/ });
    t.match(row('build-run'), { status: 'ok', found: /^built an image FROM \S+ with no network, and ran it/ });
    t.match(row('memory-limit'), { status: 'ok', found: /^a program past its 512MiB memory limit was (OOM-)?killed/ });
    t.match(row('pids-limit'), { status: 'ok', found: /^a program could not fork past its pids limit of 512/ });
    t.match(row('disk'), { status: /^(ok|warn|fail)$/, found: /free of .* on the engine's disk/ });

    const missing = [];
    for (const image of ['alpine:3.5', 'alpine:3.8']) if (!(await engine.inspectImage(image))) missing.push(image);
    if (missing.length) {
      // No registry is reachable from the test machines: the row must say so, and how to get them.
      t.equal(row('base-images').status, 'fail');
      t.match(row('base-images').found, `${missing.join(' and ')} not present, and their registry could not be asked`);
      t.match(row('base-images').fix, /docker pull alpine:3\.\d.*docker load -i images\.tar/);
      t.equal(report.ok, false);
      t.equal(run.code, 1, 'grading multi will not work here');
    } else {
      t.equal(row('base-images').status, 'ok');
    }
    t.equal(report.ok, !report.checks.some((check) => check.status === 'fail'));
    t.equal(run.code, report.ok ? 0 : 1);

    const left = await engine.listOurs(`${LABEL.submission}=doctor`);
    t.same(left.containers, [], 'no probe container left');
    t.same(left.images, [], 'no probe image left');
  });

  t.test('grade doctor against an engine that cannot be reached: exit 1, the engine row fails with a fix, no stack, no secret', async (t) => {
    const run = await runCli(['doctor'], { env: { DOCKER_HOST: 'tcp://alice:s3cret@127.0.0.1:1' } });
    t.equal(run.code, 1, run.stderr);
    t.match(run.stdout, /^ {2}FAIL {2}engine {8}cannot reach the Docker engine at tcp:\/\/\*\*\*@127\.0\.0\.1:1 \(ECONNREFUSED\)$/m);
    t.match(run.stdout, /^ {22}fix: Start Docker/m);
    t.match(run.stdout, /^ {2}skip {2}disk {10}not checked: the engine cannot be reached$/m);
    t.match(run.stdout, /grading will not work on this machine: 1 check failed/);
    t.notMatch(run.stdout + run.stderr, /s3cret|alice/, 'the credentials in DOCKER_HOST are not shown');
    t.notMatch(run.stdout + run.stderr, /\n\s+at /, 'no stack trace');
  });

  t.test('grade doctor with bad arguments exits 2', async (t) => {
    const unknown = await runCli(['doctor', 'mutli']);
    t.equal(unknown.code, 2);
    t.match(unknown.stderr, /no exercise "mutli" .*did you mean "multi"/);
    const reporter = await runCli(['doctor', '--reporter', 'tap']);
    t.equal(reporter.code, 2);
    t.match(reporter.stderr, /--reporter tap: expected table or json/);
    const dir = await runCli(['doctor', 'multi', '--dir', '/nonexistent/multi']);
    t.equal(dir.code, 2);
    t.match(dir.stderr, /--dir \/nonexistent\/multi: no such folder/);
  });
}
