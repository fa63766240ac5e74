// Text from a submission (program output, build logs, file names) made safe to print: no escape
// sequence can move the cursor, recolour or retitle the terminal, and no carriage return can
// overwrite what the grader printed.

// CSI, OSC, DCS/PM/APC and single-character escapes, 7-bit and 8-bit forms.
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[PX^_][^\u001b]*(?:\u001b\\)?|\u001b[@-Z\\-_]?|\u009b[0-?]*[ -/]*[@-~]/g;
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
