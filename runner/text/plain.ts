// Text from a submission (program output, build logs, file names) made safe to print: no escape
// sequence can move the cursor, recolour or retitle the terminal, and no carriage return can
// overwrite what the grader printed.

// CSI, OSC, DCS/PM/APC and single-character escapes, 7-bit and 8-bit forms.
const ESCAPES =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[PX^_][^\u001b]*(?:\u001b\\)?|\u001b[@-Z\\-_]?|\u009b[0-?]*[ -/]*[@-~]/g;
// C0 and C1 controls other than tab and newline.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// Half a UTF-16 pair: not text. UTF-8 output replaces it anyway; JSON and YAML would write an
// escape that strict readers reject.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function plainText(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .replace(ESCAPES, '')
    .replace(CONTROLS, (char) => (char === '\r' ? '\n' : '\uFFFD'))
    .replace(LONE_SURROGATE, '\uFFFD');
}

// Everything that could end, move or disguise a line: C0 controls (newline, carriage return and
// tab included), DEL, C1 controls, Unicode line and paragraph separators, bidirectional
// overrides (which can make a name read backwards), non-characters and half surrogate pairs.
const NOT_INLINE =
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text put inside one line of output, such as a file name from a submission: a name may hold a
 * newline, and must not start a line of its own (`x\nScore: 28/28`). Each such character is
 * shown as a visible escape (`\n`, `\u001b`), as JSON writes it; backslashes are left alone, so
 * rendering twice changes nothing.
 */
export function singleLine(text: string): string {
  return text.replace(NOT_INLINE, (char) => SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
