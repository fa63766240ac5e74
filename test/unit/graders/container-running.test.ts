// The container-running grader: a running, stopped, killed or never-started container, and a
// program the image cannot start.
import t from 'tap';
import { containerRunning } from '../../../graders/container-running.js';
import { contextOf, DYNAMIC_HINT, dynamicMessage, LINKER_HINT, startedContainer } from '../../support/graders.js';
import { captured, FakeEngine } from '../../support/fake-engine.js';

t.test('container-running', async (t) => {
  const engine = new FakeEngine()
    .container('up', { state: { running: true } })
    .container('died', {
      state: { running: false, status: 'exited', exitCode: 127 },
      logs: { stdout: captured(''), stderr: captured('exec /sleep: no such file or directory\n') },
    })
    .container('oom', { state: { running: false, status: 'exited', exitCode: 137, oomKilled: true, error: 'OOM' } });
  const run = (id: string, startError?: string) =>
    containerRunning.run({ container: 'sleeper' }, contextOf({ sleeper: startedContainer(id, startError) }, { engine }));

  t.same(await run('up'), { status: 'pass', message: 'sleeper is running' });
  t.same(await run('died'), {
    status: 'fail',
    message: 'sleeper is not running: it exited with code 127',
    expected: 'running',
    actual: 'exited',
    log: 'exec /sleep: no such file or directory',
    logKind: 'program',
    hint: LINKER_HINT,
  });
  t.same(await run('oom'), {
    status: 'fail',
    message: 'sleeper is not running: it killed for using too much memory (OOM)',
    expected: 'running',
    actual: 'exited',
    hint: undefined,
  });
  t.same(await run('never', 'exec /sleep: no such file or directory'), {
    status: 'fail',
    message: 'sleeper could not start: exec /sleep: no such file or directory',
    hint: LINKER_HINT,
  });
  t.same(await containerRunning.run({ container: 'sleeper' }, contextOf({ sleeper: { ok: false, reason: 'image sleep did not build' } }, { engine })), {
    status: 'fail',
    message: 'image sleep did not build',
  });
  t.same(
    engine.methods(),
    ['inspectContainer', 'inspectContainer', 'logs', 'pathsPresent', 'inspectContainer', 'logs', 'pathsPresent'],
    'logs only for containers that stopped; the image is probed only for a program "not found"',
  );
});

t.test('container-running: a dynamically linked program in an image without its C library is named as such', async (t) => {
  const hint = DYNAMIC_HINT;

  // CMD ["/sleep"] in scratch: runc cannot exec it.
  const scratch = new FakeEngine().paths('sleep-ref', ['/sleep']).container('died', {
    state: { running: false, status: 'exited', exitCode: 1 },
    logs: { stdout: captured(''), stderr: captured('exec /sleep: no such file or directory\n') },
  });
  const running = (id: string, startError?: string) =>
    containerRunning.run({ container: 'sleeper' }, contextOf({ sleeper: startedContainer(id, startError) }, { engine: scratch }));
  t.match(await running('died'), { status: 'fail', message: dynamicMessage('sleeper is not running', '/sleep'), hint });
  t.match(await running('never', 'exec /sleep: no such file or directory'), {
    status: 'fail',
    message: dynamicMessage('sleeper could not start', '/sleep'),
    hint,
  });
});
