// plainText makes submission text safe to print: no escape sequence survives to move the cursor,
// clear the screen, recolour or retitle the terminal, and no carriage return can overwrite a line.
// singleLine keeps a name from a submission on one line, every control shown as an escape.
import t from 'tap';
import { plainText, singleLine } from '../../runner/text/plain.js';

const ESC = '\u001b';

t.test('CSI sequences are removed', async (t) => {
  t.equal(plainText(`${ESC}[31mred${ESC}[0m plain`), 'red plain', 'colours');
  t.equal(plainText(`${ESC}[1;32;4mbold${ESC}[m`), 'bold', 'several parameters, empty reset');
  t.equal(plainText(`a${ESC}[2Jb${ESC}[Hc${ESC}[3J`), 'abc', 'clear screen, home, clear scrollback');
  t.equal(plainText(`x${ESC}[10;20Hy${ESC}[5Az${ESC}[2K`), 'xyz', 'cursor position, cursor up, erase line');
  t.equal(plainText(`${ESC}[?25l${ESC}[?1049hhidden${ESC}[?25h`), 'hidden', 'private modes (cursor, alternate screen)');
  t.equal(plainText(`\u009b31mC1 CSI\u009b0m`), 'C1 CSI', 'the 8-bit CSI');
});

t.test('OSC sequences are removed, terminated by BEL or ST, or not at all', async (t) => {
  t.equal(plainText(`${ESC}]0;pwned title\u0007after`), 'after', 'window title, BEL');
  t.equal(plainText(`${ESC}]2;title${ESC}\\after`), 'after', 'window title, ST');
  t.equal(plainText(`${ESC}]8;;https://example.com${ESC}\\link${ESC}]8;;${ESC}\\`), 'link', 'hyperlinks keep their text');
  t.equal(plainText(`before${ESC}]0;never ends`), 'before', 'an unterminated OSC swallows the rest');
  t.equal(plainText(`${ESC}P1$r0m${ESC}\\dcs gone`), 'dcs gone', 'DCS');
  t.equal(plainText(`${ESC}_apc${ESC}\\ok`), 'ok', 'APC');
});

t.test('single-character escapes and a lone ESC are removed', async (t) => {
  t.equal(plainText(`a${ESC}cb`), 'acb', 'reset (ESC c) loses its ESC; the c is left as text');
  t.equal(plainText(`a${ESC}7b${ESC}8c`), 'a7b8c', 'save/restore cursor lose their ESC');
  t.equal(plainText(`a${ESC}Mb`), 'ab', 'reverse index');
  t.equal(plainText(`trailing${ESC}`), 'trailing');
  t.notMatch(plainText(`${ESC}[31m${ESC}]0;x\u0007${ESC}Mx${ESC}`), /\u001b/, 'no ESC is left');
});

t.test('other C0 and all C1 controls become U+FFFD, so they are visible but inert', async (t) => {
  t.equal(plainText('bell\u0007 backspace\u0008 null\u0000'), 'bell\uFFFD backspace\uFFFD null\uFFFD');
  t.equal(plainText('vt\u000b ff\u000c del\u007f'), 'vt\uFFFD ff\uFFFD del\uFFFD');
  t.equal(plainText('nel\u0085 ssa\u0086 osc\u009d st\u009c'), 'nel\uFFFD ssa\uFFFD osc\uFFFD st\uFFFD');
  t.notMatch(plainText(Array.from({ length: 32 }, (_, index) => String.fromCharCode(0x80 + index)).join('')), /[\u0080-\u009f]/, 'no C1 control is left');
});

t.test('carriage returns become newlines; tabs, newlines and unicode stay', async (t) => {
  t.equal(plainText('progress 10%\rprogress 100%'), 'progress 10%\nprogress 100%', 'a \\r cannot overwrite the line');
  t.equal(plainText('windows\r\nline\r\n'), 'windows\nline\n', '\\r\\n is one newline');
  t.equal(plainText('a\r\rb'), 'a\n\nb');
  t.equal(plainText('col1\tcol2\nrow2\n'), 'col1\tcol2\nrow2\n');
  t.equal(plainText('Zoë naïve — ✔ ✖ 😀 日本語 \u00a0nbsp'), 'Zoë naïve — ✔ ✖ 😀 日本語 \u00a0nbsp');
  t.equal(plainText(''), '');
  t.equal(plainText('Hello, world!\n'), 'Hello, world!\n');
});

t.test('singleLine shows line breaks, tabs and other controls as visible escapes', async (t) => {
  t.equal(singleLine('x\nok 99 - forged'), 'x\\nok 99 - forged', 'a newline is \\n');
  t.equal(singleLine('a\r\nb\tc'), 'a\\r\\nb\\tc', 'CR and tab likewise');
  t.equal(
    singleLine('esc\u001b[2J bell\u0007 nul\u0000 del\u007f nel\u0085'),
    'esc\\u001b[2J bell\\u0007 nul\\u0000 del\\u007f nel\\u0085',
    'other controls as \\u escapes',
  );
  t.equal(singleLine('ls\u2028ps\u2029'), 'ls\\u2028ps\\u2029', 'Unicode line and paragraph separators');
  t.equal(singleLine('abc\u202egpj.exe'), 'abc\\u202egpj.exe', 'a right-to-left override cannot disguise a name');
  t.equal(singleLine('lone \ud800 half'), 'lone \\ud800 half', 'half a surrogate pair');
  t.equal(singleLine('Zoë 日本語 😀 back\\slash "quoted"'), 'Zoë 日本語 😀 back\\slash "quoted"', 'everything printable stays as it is');
  const name = 'dir\nScore: 28/28\u001b]0;t\u0007';
  t.equal(singleLine(singleLine(name)), singleLine(name), 'rendering twice changes nothing');
  t.notMatch(singleLine(Array.from({ length: 0xa0 }, (_, code) => String.fromCharCode(code)).join('')), /[\u0000-\u001f\u007f-\u009f]/, 'no control is left');
});

t.test('editDistance counts a swap of two neighbours as one edit', async (t) => {
  const { editDistance } = await import('../../runner/text/edit-distance.js');
  t.equal(editDistance('mutli', 'multi'), 1, 'a swap');
  t.equal(editDistance('COPPY', 'COPY'), 1, 'a deletion');
  t.equal(editDistance('kitten', 'sitting'), 3);
  t.equal(editDistance('', 'abc'), 3);
  t.equal(editDistance('same', 'same'), 0);
});
