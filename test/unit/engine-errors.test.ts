// How engine trouble is told apart from a submission's fault: each transport or engine failure
// becomes an EngineError whose message names the cause and whose advice says what to do.
import t from 'tap';
import { asEngineError, engineMessage } from '../../runner/dockerode-engine.js';
import { EngineError } from '../../runner/engine.js';

const failure = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.message ?? 'failure')), fields);

t.test('transport failures become EngineErrors with advice', async (t) => {
  const cases: [Record<string, unknown>, RegExp, RegExp][] = [
    [{ code: 'ENOENT' }, /cannot reach the Docker engine at .* \(ENOENT\)/, /Start Docker/],
    [{ code: 'ECONNREFUSED' }, /cannot reach the Docker engine/, /DOCKER_HOST/],
    [{ code: 'EACCES' }, /permission denied on the Docker socket/, /docker group/],
    [{ code: 'ECONNRESET' }, /went away during grading \(ECONNRESET\)/, /has not restarted/],
    [{ message: 'socket hang up' }, /went away during grading/, /grade again/],
    [{ statusCode: 400, json: { message: 'client version 1.99 is too new. Maximum supported API version is 1.41' } }, /refused our API version/, /DOCKER_API_VERSION/],
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
  t.equal(engineMessage(failure({ message: '(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": no such host' })), 'Get "https://registry-1.docker.io/v2/": no such host');
});
