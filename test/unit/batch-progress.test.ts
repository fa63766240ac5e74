// The view of a class being graded: one line per finished submission where nothing animates (CI
// logs, pipes), one live line in a terminal, and a closing summary that says where the gradebook is.
import t from 'tap';
import { BatchView } from '../../runner/cli/batch-progress.js';
import type { StudentRecord } from '../../runner/batch/gradebook.js';
import { Sink, TerminalSink } from '../support/sinks.js';
import { sampleClassSummary } from '../support/class-summary.js';

const record = (student: string, extra: Partial<StudentRecord> = {}): StudentRecord => ({
  student,
  entry: student,
  status: 'graded',
  score: 20,
  maxScore: 28,
  passed: true,
  message: '',
  points: {},
  images: [],
  hasResult: true,
  machineFault: false,
  contentHash: 'h',
  exerciseHash: 'e',
  grader: { name: 'grade', version: '0.1.0' },
  fingerprint: null,
  imageBounds: {},
  finishedAt: '2026-11-27T08:00:00.000Z',
  durationMs: 4200,
  ...extra,
});

t.test('not in a terminal: a plain line per finished submission, names on one line', async (t) => {
  const sink = new Sink();
  const view = new BatchView(sink, {});
  view.onEvent({ type: 'plan', toGrade: ['alice', 'bob\nok 1 - forged', 'carol'], current: 2, skipped: 1, outsideShard: 0 });
  view.onEvent({ type: 'start', student: 'alice' });
  view.onEvent({ type: 'done', record: record('alice') });
  view.onEvent({ type: 'done', record: record('bob\nok 1 - forged', { passed: false, score: 3 }) });
  view.onEvent({ type: 'done', record: record('carol', { status: 'timed-out', message: 'grading took longer than 20 min' }) });
  view.onEvent({ type: 'note', text: '2 submissions not judged: no registry could be reached' });
  t.equal(
    sink.text,
    [
      '3 to grade, 2 graded already (unchanged; --regrade grades them again), 1 skipped (not submissions)',
      '[1/3] alice  20/28  passed  (4.2 s)',
      '[2/3] bob\\nok 1 - forged  3/28  not passed  (4.2 s)',
      '[3/3] carol  timed-out  grading took longer than 20 min  (4.2 s)',
      'note: 2 submissions not judged: no registry could be reached',
      '',
    ].join('\n'),
  );
  t.notMatch(sink.text, /\u001b/, 'no escape sequences');
});

t.test('in a terminal: one live line with done/total, running, not passed and the time left', async (t) => {
  const sink = new TerminalSink(100);
  const view = new BatchView(sink, { TERM: 'xterm-256color' });
  view.onEvent({ type: 'plan', toGrade: ['alice', 'bob', 'carol'], current: 0, skipped: 0, outsideShard: 4 });
  view.onEvent({ type: 'start', student: 'alice' });
  view.onEvent({ type: 'start', student: 'bob' });
  view.onEvent({ type: 'done', record: record('alice', { passed: false }) });
  view.stop();
  t.match(sink.text, /3 to grade, 4 in other shards/);
  t.match(sink.text, /graded 1\/3 · running 1 · 1 not passed · about \d+ s left/);
  t.notMatch(sink.text, /\[1\/3\] alice/, 'a graded student is counted on the live line, not printed');
});

t.test('the summary: counts by status, the hardest checks, where the gradebook is', async (t) => {
  const sink = new Sink();
  new BatchView(sink, {}).summary(sampleClassSummary({ hostile: false }), '/srv/gradebook');
  t.match(sink.text, /Class: \d+ graded \(\d+ passed\), 1 not graded, 1 timed-out, 2 skipped; mean [\d.]+, median [\d.]+/);
  t.match(sink.text, /\d+% passed scratch-sleep\//);
  t.match(sink.text, /Gradebook: \/srv\/gradebook\/grades\.csv, class\.json, index\.html and students\//);
});
