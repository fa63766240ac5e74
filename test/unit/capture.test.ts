// OutputCapture keeps at most its cap of a stream and counts the rest; Demuxer splits Docker's
// multiplexed stream (8-byte headers: stream, 0, 0, 0, big-endian length) however it is chunked.
import t from 'tap';
import { Demuxer, OutputCapture } from '../../runner/engine/capture.js';

function capture(cap: number, ...chunks: (string | Buffer)[]) {
  const output = new OutputCapture(cap);
  for (const chunk of chunks) output.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return output.result();
}

t.test('output under, at and over the cap', async (t) => {
  t.same(capture(10, 'hello'), { text: 'hello', bytes: 5, truncated: false, binary: false });
  t.same(capture(5, 'hel', 'lo'), { text: 'hello', bytes: 5, truncated: false, binary: false }, 'exactly the cap is not truncated');
  t.same(capture(8, 'hello ', 'world', '!!!'), { text: 'hello wo', bytes: 14, truncated: true, binary: false });
  t.same(capture(4, 'abcd', 'e'), { text: 'abcd', bytes: 5, truncated: true, binary: false }, 'one byte over');
  t.same(capture(0, 'anything'), { text: '', bytes: 8, truncated: true, binary: false });
  t.same(capture(10), { text: '', bytes: 0, truncated: false, binary: false }, 'nothing written');

  const flood = new OutputCapture(16);
  for (let i = 0; i < 1000; i++) flood.write(Buffer.alloc(1024, 'y'));
  t.same(flood.result(), { text: 'y'.repeat(16), bytes: 1_024_000, truncated: true, binary: false }, 'everything past the cap is counted, not kept');
  t.equal(flood.bytes, 1_024_000);
});

t.test('what was written is copied, not referenced', async (t) => {
  const output = new OutputCapture(100);
  const chunk = Buffer.from('before');
  output.write(chunk);
  chunk.write('AFTER!');
  t.equal(output.result().text, 'before');
});

t.test('a cut inside a UTF-8 character keeps only whole characters', async (t) => {
  // é is 2 bytes (c3 a9), € is 3 (e2 82 ac), 😀 is 4 (f0 9f 98 80).
  t.same(capture(5, 'abcé', 'x'), { text: 'abcé', bytes: 6, truncated: true, binary: false }, 'a cut right after a whole character');
  t.same(capture(4, 'abcé'), { text: 'abc', bytes: 5, truncated: true, binary: false }, 'half of é is dropped');
  for (const kept of [1, 2]) {
    t.same(capture(2 + kept, 'ab€'), { text: 'ab', bytes: 5, truncated: true, binary: false }, `${kept} of the 3 bytes of €`);
  }
  for (const kept of [1, 2, 3]) {
    t.same(capture(1 + kept, 'a😀b'), { text: 'a', bytes: 6, truncated: true, binary: false }, `${kept} of the 4 bytes of 😀`);
  }
  t.same(capture(5, 'a😀b'), { text: 'a😀', bytes: 6, truncated: true, binary: false }, 'a whole 4-byte character is kept');
  t.same(capture(3, '€', 'tail'), { text: '€', bytes: 7, truncated: true, binary: false });
  t.same(capture(2, 'ab', 'é'), { text: 'ab', bytes: 4, truncated: true, binary: false });
});

t.test('invalid UTF-8 is marked binary and shown with replacement characters', async (t) => {
  t.same(capture(100, Buffer.from([0x41, 0xff, 0xfe, 0x42])), { text: 'A\uFFFD\uFFFDB', bytes: 4, truncated: false, binary: true });
  t.same(
    capture(100, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xc3])),
    {
      text: '\u007fELF\u0002\u0001\u0001\u0000\uFFFD',
      bytes: 9,
      truncated: false,
      binary: true,
    },
    'an incomplete character at the very end of untruncated output is binary',
  );
  const cutBinary = capture(3, Buffer.from([0x80, 0x80, 0x41, 0x42]));
  t.equal(cutBinary.binary, true, 'invalid bytes before a cut stay binary');
  t.equal(cutBinary.truncated, true);
  t.equal(cutBinary.bytes, 4);
  t.same(capture(100, 'plain text\twith tabs\n'), { text: 'plain text\twith tabs\n', bytes: 21, truncated: false, binary: false });
});

// ---- Demuxer ------------------------------------------------------------------------------

function frame(stream: 1 | 2, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

const STREAM = Buffer.concat([
  frame(1, 'hello '),
  frame(2, 'oops\n'),
  frame(1, ''),
  frame(1, Buffer.from('wor')),
  frame(1, Buffer.from([0x6c, 0x64, 0xc3])), // "ld" and the first byte of é ...
  frame(1, Buffer.from([0xa9, 0x0a])), //       ... its second byte in the next frame
  frame(2, 'done'),
]);
const STDOUT = 'hello worldé\n';
const STDERR = 'oops\ndone';

function demux(chunks: Buffer[], cap = 1024) {
  const stdout = new OutputCapture(cap);
  const stderr = new OutputCapture(cap);
  const demuxer = new Demuxer(stdout, stderr);
  for (const chunk of chunks) demuxer.push(chunk);
  return { stdout: stdout.result(), stderr: stderr.result() };
}

t.test('a whole stream in one chunk', async (t) => {
  const { stdout, stderr } = demux([STREAM]);
  t.same(stdout, { text: STDOUT, bytes: Buffer.byteLength(STDOUT), truncated: false, binary: false });
  t.same(stderr, { text: STDERR, bytes: 9, truncated: false, binary: false });
});

t.test('frames split across two chunks at every byte', async (t) => {
  const wrong: number[] = [];
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const { stdout, stderr } = demux([STREAM.subarray(0, cut), STREAM.subarray(cut)]);
    if (stdout.text !== STDOUT || stderr.text !== STDERR) wrong.push(cut);
  }
  t.same(wrong, [], `all ${STREAM.length + 1} cuts give the same output`);
});

t.test('frames split across three chunks at every pair of bytes', async (t) => {
  let tried = 0;
  const wrong: string[] = [];
  for (let first = 0; first <= STREAM.length; first++) {
    for (let second = first; second <= STREAM.length; second++) {
      tried++;
      const { stdout, stderr } = demux([STREAM.subarray(0, first), STREAM.subarray(first, second), STREAM.subarray(second)]);
      if (stdout.text !== STDOUT || stderr.text !== STDERR || stdout.bytes !== 14 || stderr.bytes !== 9) wrong.push(`${first}/${second}`);
    }
  }
  t.same(wrong, []);
  t.equal(tried, ((STREAM.length + 1) * (STREAM.length + 2)) / 2);
});

t.test('one byte at a time, and empty chunks in between', async (t) => {
  const bytes = [...STREAM].flatMap((byte) => [Buffer.from([byte]), Buffer.alloc(0)]);
  const { stdout, stderr } = demux(bytes);
  t.equal(stdout.text, STDOUT);
  t.equal(stderr.text, STDERR);
});

t.test('each stream is capped on its own', async (t) => {
  const big = Buffer.concat([frame(1, 'x'.repeat(100)), frame(2, 'short'), frame(1, 'more')]);
  for (const chunks of [[big], [...big].map((byte) => Buffer.from([byte]))]) {
    const { stdout, stderr } = demux(chunks, 10);
    t.same(stdout, { text: 'x'.repeat(10), bytes: 104, truncated: true, binary: false });
    t.same(stderr, { text: 'short', bytes: 5, truncated: false, binary: false });
  }
});

t.test('a header still incomplete at the end adds nothing', async (t) => {
  const { stdout, stderr } = demux([frame(1, 'ok'), frame(2, 'never').subarray(0, 7)]);
  t.equal(stdout.text, 'ok');
  t.same(stderr, { text: '', bytes: 0, truncated: false, binary: false });
});
