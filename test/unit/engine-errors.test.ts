// How engine trouble is told apart from a submission's fault: each transport or engine failure
// becomes an EngineError whose message names the cause and whose advice says what to do.
import t from 'tap';
import { apiVersionProblem, asEngineError, DockerodeEngine, dockerHostProblem, engineMessage } from '../../runner/engine/dockerode/index.js';
import { EngineStall } from '../../runner/engine/bounds.js';
import { EngineError } from '../../runner/engine/engine.js';

const failure = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.message ?? 'failure')), fields);

t.test('transport failures become EngineErrors with advice', async (t) => {
  const cases: [Record<string, unknown>, RegExp, RegExp][] = [
    [{ code: 'ENOENT' }, /cannot reach the Docker engine at .* \(ENOENT\)/, /Start Docker/],
    [{ code: 'ECONNREFUSED' }, /cannot reach the Docker engine/, /DOCKER_HOST/],
    [{ code: 'EACCES' }, /permission denied on the Docker socket/, /docker group/],
    [{ code: 'ECONNRESET' }, /went away during grading \(ECONNRESET\)/, /has not restarted/],
    [{ message: 'socket hang up' }, /went away during grading/, /grade again/],
    [
      { statusCode: 400, json: { message: 'client version 1.99 is too new. Maximum supported API version is 1.41' } },
      /refused our API version/,
      /DOCKER_API_VERSION/,
    ],
    [{ statusCode: 500, json: { message: 'write /var/lib/docker/tmp/x: no space left on device' } }, /ran out of disk space/, /docker system prune/],
  ];
  for (const [fields, message, advice] of cases) {
    const converted = asEngineError(failure(fields));
    t.type(converted, EngineError, JSON.stringify(fields));
    t.match((converted as EngineError).message, message);
    t.match((converted as EngineError).advice, advice);
    t.ok((converted as EngineError).cause, 'the original error is kept as cause');
  }
});

t.test('a submission-level API error is passed through unchanged', async (t) => {
  const notFound = failure({ statusCode: 404, json: { message: 'No such image: grade-x:latest' } });
  t.equal(asEngineError(notFound), notFound);
  t.equal(engineMessage(notFound), 'No such image: grade-x:latest');
  t.equal(
    engineMessage(failure({ message: '(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": no such host' })),
    'Get "https://registry-1.docker.io/v2/": no such host',
  );
});

t.test('a host name that does not resolve is named, with the fix', async (t) => {
  for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
    const converted = asEngineError(failure({ code, hostname: 'no-such-host.invalid' })) as EngineError;
    t.type(converted, EngineError, code);
    t.match(converted.message, new RegExp(`names host no-such-host\\.invalid, which does not resolve \\(${code}\\)`));
    t.match(converted.advice, /DOCKER_HOST/);
  }
});

t.test('an engine that stopped answering is told apart, with advice', async (t) => {
  const converted = asEngineError(new EngineStall('GET /version', 30_000)) as EngineError;
  t.type(converted, EngineError);
  t.match(converted.message, /stopped answering \(GET \/version got no answer within 30 s\)$/);
  t.match(converted.advice, /`docker info`/);
  t.match(converted.advice, /restart Docker/);
  t.match(converted.advice, /`grade clean`/);
  const already = new EngineError('x', 'y');
  t.equal(asEngineError(already), already, 'an EngineError passes through as is');
});

t.test('DOCKER_HOST: the schemes Docker uses, and a host', async (t) => {
  for (const good of [undefined, '', 'unix:///var/run/docker.sock', 'unix://', 'tcp://127.0.0.1:2375', 'ssh://me@build-box', '127.0.0.1:2375']) {
    t.equal(dockerHostProblem(good, 'linux'), undefined, String(good));
  }
  t.equal(dockerHostProblem('npipe:////./pipe/docker_engine', 'win32'), undefined);
  t.equal(dockerHostProblem('npipe:////./pipe/docker_engine', 'linux'), 'npipe:// works only on Windows');
  t.equal(dockerHostProblem('banana://x', 'linux'), 'banana:// is not a scheme Docker uses');
  t.equal(dockerHostProblem('http://127.0.0.1:2375', 'linux'), 'http:// is not a scheme Docker uses');
  t.equal(dockerHostProblem('tcp://', 'linux'), 'it names no host');
  t.equal(dockerHostProblem('ssh://', 'linux'), 'it names no host');
});

t.test('DOCKER_API_VERSION must look like a version', async (t) => {
  for (const good of [undefined, '', '1.41', 'v1.24', ' 1.45 ']) t.equal(apiVersionProblem(good), undefined, String(good));
  for (const bad of ['banana', '1', '1.41.0', 'latest']) t.equal(apiVersionProblem(bad), 'expected a version such as 1.41', bad);
});

t.test('a malformed DOCKER_HOST or DOCKER_API_VERSION is refused before any request', async (t) => {
  const saved = { host: process.env.DOCKER_HOST, version: process.env.DOCKER_API_VERSION };
  t.teardown(() => {
    for (const [key, value] of [
      ['DOCKER_HOST', saved.host],
      ['DOCKER_API_VERSION', saved.version],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  process.env.DOCKER_HOST = 'banana://x';
  t.throws(() => new DockerodeEngine(), {
    name: 'EngineError',
    message: 'DOCKER_HOST=banana://x is not an engine address: banana:// is not a scheme Docker uses',
    advice: /unix:\/\/.*tcp:\/\/.*ssh:\/\/.*npipe:\/\/.*Windows/,
  });
  delete process.env.DOCKER_HOST;
  process.env.DOCKER_API_VERSION = 'banana';
  t.throws(() => new DockerodeEngine(), { name: 'EngineError', message: 'DOCKER_API_VERSION=banana: expected a version such as 1.41' });
});

t.test('an engine address is shown without the credentials DOCKER_HOST may carry', async (t) => {
  const { shownAddress } = await import('../../runner/engine/dockerode/errors.js');
  t.equal(shownAddress('tcp://alice:s3cret@engine.example:2376'), 'tcp://***@engine.example:2376');
  t.equal(shownAddress('ssh://deploy@10.0.0.5'), 'ssh://***@10.0.0.5');
  t.equal(shownAddress('tcp://engine:2376/?token=abc#x'), 'tcp://engine:2376/');
  t.equal(shownAddress('unix:///var/run/docker.sock'), 'unix:///var/run/docker.sock');
  const previous = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = 'tcp://alice:s3cret@127.0.0.1:9';
  t.teardown(() => {
    if (previous === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = previous;
  });
  const { asEngineError } = await import('../../runner/engine/dockerode/errors.js');
  const error = asEngineError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })) as Error;
  t.notMatch(error.message, /s3cret/, 'the password is in no message');
  t.match(error.message, /tcp:\/\/\*\*\*@127\.0\.0\.1:9/);
});
