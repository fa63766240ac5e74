// The engines' differences as the dialect reads them from /info, /version and error answers.
import t from 'tap';
import { apiVersionServed, attachStartError, dialectOf, listedSize } from '../../runner/engine/dockerode/dialect.js';

t.test('the engine is told from /info', async (t) => {
  const docker = dialectOf({ DriverStatus: [['Backing Filesystem', 'extfs']] });
  t.equal(docker.engine, 'docker');
  t.equal(docker.imageStore, 'graph');
  t.equal(docker.topArgs, undefined, "Docker's top needs no ps arguments");
  t.equal(docker.reportsOom, true);
  const containerd = dialectOf({ DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']] });
  t.equal(containerd.engine, 'docker');
  t.equal(containerd.imageStore, 'containerd');
  const podman = dialectOf({ BuildahVersion: '1.28.2', DriverStatus: [['Backing Filesystem', 'extfs']] });
  t.equal(podman.engine, 'podman');
  t.equal(podman.imageStore, 'podman');
  t.equal(podman.topArgs, 'pid,args');
  t.equal(podman.reportsOom, false);
  t.equal(podman.cancelsBuilds, false);
  t.equal(dialectOf({ DriverStatus: null }).engine, 'docker', 'a null DriverStatus (some engines) is Docker');
});

t.test('build ulimits in each engine’s form', async (t) => {
  const limits = [{ name: 'cpu', soft: 300, hard: 301 }];
  t.same(JSON.parse(dialectOf({}).buildUlimits(limits)), [{ Name: 'cpu', Soft: 300, Hard: 301 }]);
  t.same(JSON.parse(dialectOf({ BuildahVersion: '1' }).buildUlimits(limits)), ['cpu=300:301']);
});

t.test("the engine's own listing figure, where it is another", async (t) => {
  t.equal(listedSize(dialectOf({}), 762_568, 762_568), undefined, 'overlay2 lists the layers');
  const containerd = listedSize(dialectOf({ DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']] }), 342_044, 770_048);
  t.equal(containerd?.bytes, 1_112_092, 'compressed blobs plus unpacked snapshots');
  t.match(containerd?.why, /compressed and the unpacked/);
  t.equal(listedSize(dialectOf({ BuildahVersion: '1' }), 766_900, 764_416)?.bytes, 766_900, 'Podman lists its inspected size');
});

t.test("Podman's 409 on attach names the runtime's start error; nothing else does", async (t) => {
  const said = 'runc: runc create failed: unable to start container process: exec: "/nope": stat /nope: no such file or directory';
  const podman = Object.assign(new Error('(HTTP code 409) unexpected - x'), {
    statusCode: 409,
    json: { message: `preparing container 397ba8ce for attach: ${said}` },
  });
  t.equal(attachStartError(podman), said);
  t.equal(attachStartError(Object.assign(new Error('conflict'), { statusCode: 409, json: { message: 'container is paused' } })), undefined);
  t.equal(attachStartError(Object.assign(new Error('x'), { statusCode: 500, json: { message: `preparing container for attach: ${said}` } })), undefined);
  t.equal(attachStartError(new Error('socket hang up')), undefined);
});

t.test('an API version outside what the engine serves', async (t) => {
  const version = { ApiVersion: '1.41', MinAPIVersion: '1.24' } as never;
  t.equal(apiVersionServed('1.41', version), undefined);
  t.equal(apiVersionServed('v1.30', version), undefined);
  t.match(apiVersionServed('1.99', version), /1\.99 is too new\. Maximum supported API version is 1\.41/);
  t.match(apiVersionServed('1.100', version), /too new/, 'compared as numbers, not text');
  t.match(apiVersionServed('1.12', version), /1\.12 is too old\. Minimum supported API version is 1\.24/);
  t.equal(apiVersionServed('2.0', { ApiVersion: '' } as never), undefined, 'an engine that names no versions is not second-guessed');
});
