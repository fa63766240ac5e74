// Every report grade can write, by the name `--reporter` and `--report` take. Each writer is a
// pure function of the results; the CLI decides where its text goes.
import type { ExerciseResult } from '../runner/results.js';
import { classroomReport } from './classroom.js';
import { gradescopeReport } from './gradescope.js';
import { htmlReport } from './html.js';
import { jsonReport } from './json.js';
import { junitReport } from './junit.js';
import { tapReport } from './tap.js';

export const fileReports = {
  tap: { file: 'report.tap', write: tapReport },
  html: { file: 'report.html', write: htmlReport },
  json: { file: 'results.json', write: jsonReport },
  junit: { file: 'junit.xml', write: junitReport },
  gradescope: { file: 'gradescope.json', write: gradescopeReport },
  classroom: { file: 'classroom.json', write: classroomReport },
} satisfies Record<string, { file: string; write: (result: ExerciseResult) => string }>;

export type FileReport = keyof typeof fileReports;

/** What may go to stdout: the live terminal view, or one whole document. */
export const stdoutReporters = { terminal: undefined, json: jsonReport, tap: tapReport } as const;
export type StdoutReporter = keyof typeof stdoutReporters;
