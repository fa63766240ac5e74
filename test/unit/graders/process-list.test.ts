// The process-list grader over docker top answers, in both column layouts.
import t from 'tap';
import { processList } from '../../../graders/process-list.js';
import { contextOf, startedContainer } from '../../support/graders.js';
import { FakeEngine } from '../../support/fake-engine.js';

t.test('process-list', async (t) => {
  const titles = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'];
  const row = (cmd: string) => ['root', '4242', '4221', '0', '10:00', '?', '00:00:00', cmd];
  const engine = new FakeEngine()
    .container('plain', { top: { titles, processes: [row('/sleep')] } })
    .container('args', { top: { titles, processes: [row('/bin/sh -c /sleep'), row('/sleep 1000')] } })
    .container('relative', { top: { titles, processes: [row('sleep')] } })
    .container('ps', { top: { titles: ['PID', 'USER', 'TIME', 'COMMAND'], processes: [['1', 'root', '0:00', '/sleep']] } })
    .container('empty', { top: { titles, processes: [] } })
    .container('stopped', { state: { running: false, exitCode: 1 } });
  const run = (id: string) => processList.run({ container: 'sleeper', command: '/sleep' }, contextOf({ sleeper: startedContainer(id) }, { engine }));

  t.same(await run('plain'), { status: 'pass', message: 'docker top sleeper shows /sleep' });
  t.same(await run('args'), { status: 'pass', message: 'docker top sleeper shows /sleep' }, 'the command with arguments counts');
  t.same(await run('ps'), { status: 'pass', message: 'docker top sleeper shows /sleep' }, 'a COMMAND column counts as well');
  t.same(await run('relative'), { status: 'fail', message: 'docker top sleeper does not show /sleep', expected: '/sleep', actual: 'sleep' });
  t.same(await run('empty'), { status: 'fail', message: 'docker top sleeper does not show /sleep', expected: '/sleep', actual: '(no processes)' });
  t.same(await run('stopped'), { status: 'fail', message: 'sleeper is not running (exit code 1), so it has no processes to list' });
  t.notOk(
    engine.calls.some((call) => call.method === 'top' && call.arg === 'stopped'),
    'no docker top of a stopped container',
  );
});
