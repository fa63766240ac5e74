// The page every HTML report is, and text from results made safe and readable in it: escaped for
// element content and attributes, printable (no control characters), dates in UTC. Shared by the
// student report and the class dashboard; everything a submission wrote passes through here.
import { plainText } from '../runner/text/plain.js';

/** UTC to the second, the same for every reader: a page must not depend on where it is opened. */
export function readableDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A CSS width from a ratio, clamped to 0..100%. */
export function percent(ratio: number): string {
  return `${Math.min(100, Math.max(0, ratio * 100)).toFixed(2)}%`;
}

export function oneLine(value: string): string {
  return plainText(value).replace(/\s+/g, ' ').trim();
}

/** Text from the results, made printable and escaped for element content. */
export function text(value: string): string {
  return escapeHtml(plainText(value));
}

/** Text from the results inside a double-quoted attribute. */
export function attr(value: string): string {
  return escapeHtml(plainText(value).replace(/\n/g, ' '));
}

/** Messages and hints quote commands in backticks; those become <code> after escaping, so no markup gets in. */
export function prose(value: string): string {
  return text(value).replace(/`([^`\n]+)`/g, '<code>$1</code>');
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * A self-contained page: inline CSS, no script, nothing fetched (the CSP forbids it even if
 * markup got in), no referrer; it works from file:// and follows the reader's colour scheme.
 */
export function htmlPage(title: string, css: string, main: string, after = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>${text(title)}</title>
<style>${css}</style>
</head>
<body>
<main>
${main}
</main>
${after ? `${after}\n` : ''}</body>
</html>
`;
}
