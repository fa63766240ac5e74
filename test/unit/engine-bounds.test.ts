// The time bounds on engine requests, on a scripted modem: a short request that gets no answer
// fails as a stall and its request is aborted; long requests are left to the watchdog, which
// reports an engine that answers no ping.
import t from 'tap';
import { answersWithin, boundRequests, describeRequest, EngineClock, EngineStall, watchEngine } from '../../runner/engine/bounds.js';
import { FakeTimers } from '../support/fake-timers.js';
import { asEngineError } from '../../runner/engine/dockerode/index.js';
import { EngineError } from '../../runner/engine/engine.js';

type Callback = (error: (Error & { statusCode?: number }) | null, data: unknown) => void;

/** A modem whose requests are held until the test answers them. */
function scriptedModem() {
  const requests: { options: { path: string; method: string; abortSignal?: AbortSignal }; answer: Callback }[] = [];
  const modem = {
    dial(options: { path: string; method: string; abortSignal?: AbortSignal }, callback: Callback) {
      requests.push({ options, answer: callback });
    },
  };
  return { modem, requests };
}

const dialed = (modem: { dial(options: object, callback: Callback): void }, options: { path: string; method: string; abortSignal?: AbortSignal }) =>
  new Promise<unknown>((resolve, reject) => modem.dial(options, (error, data) => (error ? reject(error) : resolve(data))));

t.test('a short request without an answer fails as a stall, and is aborted', async (t) => {
  const { modem, requests } = scriptedModem();
  const timers = new FakeTimers();
  const clock = new EngineClock(200, timers);
  boundRequests(modem, clock);
  const failing = dialed(modem, { path: '/containers/3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708/json', method: 'GET' }).catch(
    (error: unknown) => error,
  );
  await timers.advance(200);
  const failure = (await failing) as EngineStall;
  t.type(failure, EngineStall);
  t.equal(failure.message, 'GET /containers/3f2a1b4c5d6e/json got no answer within 0.2 s');
  t.equal(requests[0]!.options.abortSignal?.aborted, true, 'the request itself was aborted');
  t.ok(clock.isSilent, 'the engine is now known to be silent');
  t.equal(clock.requestLimitMs(), 200, 'later requests get at most the short limit');

  const converted = asEngineError(failure) as EngineError;
  t.type(converted, EngineError);
  t.match(converted.message, /^the Docker engine at .* stopped answering \(GET \/containers\/3f2a1b4c5d6e\/json got no answer within 0\.2 s\)$/);
  t.match(converted.advice, /docker info.*restart Docker.*grade clean/s);

  // A late answer after the stall is dropped, not delivered twice.
  requests[0]!.answer(null, { late: true });
});

t.test('a request under way when the engine is found silent gets no longer than a new one would', async (t) => {
  const { modem, requests } = scriptedModem();
  const timers = new FakeTimers();
  const clock = new EngineClock(600_000, timers);
  boundRequests(modem, clock);
  let failure: unknown;
  void dialed(modem, { path: '/containers/abc/json', method: 'GET' }).catch((error: unknown) => {
    failure = error;
  });
  await timers.advance(1000);
  // Another step's request, or a watchdog, finds the engine silent.
  clock.silent();
  await timers.advance(1999);
  t.equal(failure, undefined, 'still waiting, within the silent-engine limit');
  await timers.advance(1);
  t.type(failure, EngineStall);
  t.equal((failure as EngineStall).message, 'GET /containers/abc/json got no answer within 3 s', 'the time it really waited');
  t.equal(requests[0]!.options.abortSignal?.aborted, true, 'the request itself was aborted');
});

t.test('an answer in time passes through, and marks the engine as answering', async (t) => {
  const { modem, requests } = scriptedModem();
  const clock = new EngineClock(5000);
  clock.silent();
  boundRequests(modem, clock);
  const answered = dialed(modem, { path: '/version', method: 'GET' });
  requests[0]!.answer(null, { ApiVersion: '1.41' });
  t.same(await answered, { ApiVersion: '1.41' });
  t.notOk(clock.isSilent);

  const refused = dialed(modem, { path: '/images/x/json', method: 'GET' });
  requests[1]!.answer(Object.assign(new Error('(HTTP code 404) no such image'), { statusCode: 404 }), null);
  await t.rejects(refused, { message: '(HTTP code 404) no such image' }, 'an HTTP error is an answer, passed on as is');
});

t.test("the caller's abort signal still aborts the request", async (t) => {
  const { modem, requests } = scriptedModem();
  boundRequests(modem, new EngineClock(5000));
  const caller = new AbortController();
  const pending = dialed(modem, { path: '/containers/x/json', method: 'GET', abortSignal: caller.signal });
  caller.abort(new Error('stop'));
  t.equal(requests[0]!.options.abortSignal?.aborted, true);
  requests[0]!.answer(new Error('aborted'), null);
  await t.rejects(pending, { message: 'aborted' });
});

t.test('long requests are left to their own limits and the watchdog', async (t) => {
  const { modem, requests } = scriptedModem();
  const timers = new FakeTimers();
  boundRequests(modem, new EngineClock(50, timers));
  for (const path of ['/build?', '/images/create?', '/containers/abc/wait?', '/images/load?']) {
    void dialed(modem, { path, method: 'POST' }).catch(() => undefined);
  }
  await timers.advance(200);
  t.equal(requests.length, 4);
  t.ok(
    requests.every((request) => request.options.abortSignal === undefined),
    'not bounded by the request timeout',
  );
});

t.test('the watchdog reports an engine that answers no ping, and only then', async (t) => {
  const timers = new FakeTimers();
  const clock = new EngineClock(300, timers);
  const stalls: EngineStall[] = [];
  watchEngine(
    () => new Promise(() => undefined),
    clock,
    'pings during the build',
    (stall) => stalls.push(stall),
  );
  await timers.advance(299);
  t.same(stalls, [], 'not before the engine timeout');
  await timers.advance(1000);
  t.equal(stalls.length, 1, 'once');
  t.equal(stalls[0]?.message, 'pings during the build got no answer within 0.3 s');
  t.ok(clock.isSilent);

  const answering = new FakeTimers();
  let answered = 0;
  let quiet = 0;
  const stop = watchEngine(
    async () => {
      answered++;
    },
    new EngineClock(300, answering),
    'pings during the run',
    () => quiet++,
  );
  await answering.advance(10_000);
  stop();
  t.ok(answered >= 30, `the engine was pinged (${answered} times)`);
  t.equal(quiet, 0, 'an answering engine is never reported');
});

t.test('answersWithin tells a silent engine from an answering one', async (t) => {
  t.equal(await answersWithin(async () => 'OK', 100), true);
  const timers = new FakeTimers();
  const silent = answersWithin((signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))), 100, timers);
  await timers.advance(100);
  t.equal(await silent, false);
  t.equal(await answersWithin(() => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), 100), false);
});

t.test('requests are named for messages with long ids shortened', async (t) => {
  t.equal(describeRequest('DELETE', `/containers/${'a'.repeat(64)}?force=true`), 'DELETE /containers/aaaaaaaaaaaa');
  t.equal(describeRequest('GET', '/_ping'), 'GET /_ping');
});
