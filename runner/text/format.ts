// How graders phrase figures and evidence for a student: sizes as `docker image ls` prints them,
// durations, and bounded excerpts of logs and program output.

/** Bytes in SI units with three significant digits, as `docker image ls` shows them. */
export function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  // Round before choosing the unit, so 999,999 bytes reads 1MB, not 1000kB.
  while (Number(value.toPrecision(3)) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toPrecision(3))}${units[unit]}`;
}

/** Exact bytes, with the rounded size beside them once that helps reading: "1.05MB (1048576 bytes)". */
export function formatBytes(bytes: number): string {
  return bytes < 1000 ? `${bytes} bytes` : `${formatSize(bytes)} (${bytes} bytes)`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toPrecision(3))} s`;
}

/** A longer span as a person says it: "45 s", "12 min", "1 h 5 min". */
export function formatSpan(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

export function formatPercent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(3))} %`;
}

/** The last `maxLines` lines of `text`, saying how many were left out. */
export function tail(text: string, maxLines = 30): string {
  const lines = text.replace(/\n$/, '').split('\n');
  if (lines.length <= maxLines) return lines.join('\n');
  return [`... (${lines.length - maxLines} earlier lines not shown)`, ...lines.slice(-maxLines)].join('\n');
}

/** A one-line rendering of program output for messages: quoted, escaped and shortened. */
export function quoteOutput(text: string, max = 80): string {
  const quoted = JSON.stringify(text);
  return quoted.length <= max ? quoted : `${quoted.slice(0, max - 4)}..."`;
}
