// The gradebook's formats read back: grades.csv by a strict RFC 4180 parser (every row round-trips,
// no cell can run as a formula, the points add up), class.json by its JSON Schema, and the
// dashboard's markup, where text from submissions must stay text and links must stay inside.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { gradebookCsv, textCell } from '../../reports/class/csv.js';
import { classDashboard, reportHref } from '../../reports/class/dashboard.js';
import { type ClassResult, type ClassSummary, REFERENCE_SOLUTION } from '../../runner/class-results.js';
import { packageRoot } from '../../runner/paths.js';
import { singleLine } from '../../runner/text/plain.js';
import { HOSTILE_MESSAGE, HOSTILE_NAMES, sampleClassResult, sampleClassSummary, scoreSummary } from '../support/class-summary.js';

const FORMULA_START = ['=', '+', '-', '@', '\t', '\r'];

/**
 * RFC 4180, strictly: records end with CRLF (the last one too), a field is either unquoted with no
 * comma, quote, CR or LF, or wholly quoted with quotes doubled. Anything else throws, naming where.
 */
function parseCsv(input: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let at = 0;
  while (at < input.length) {
    let field = '';
    if (input[at] === '"') {
      at++;
      for (;;) {
        if (at >= input.length) throw new Error(`unterminated quoted field at ${at}`);
        if (input[at] === '"') {
          if (input[at + 1] === '"') {
            field += '"';
            at += 2;
            continue;
          }
          at++;
          break;
        }
        field += input[at++];
      }
    } else {
      while (at < input.length && input[at] !== ',' && input[at] !== '\r' && input[at] !== '\n') {
        if (input[at] === '"') throw new Error(`quote inside an unquoted field at ${at}`);
        field += input[at++];
      }
    }
    record.push(field);
    if (input[at] === ',') {
      at++;
    } else if (input.startsWith('\r\n', at)) {
      records.push(record);
      record = [];
      at += 2;
    } else {
      throw new Error(`expected a comma or CRLF at ${at}, found ${JSON.stringify(input.slice(at, at + 10))}`);
    }
  }
  if (record.length > 0) throw new Error('the last record does not end with CRLF');
  return records;
}

/** What the writer must make of a text cell: a formula's first character kept as text by a quote. */
function defused(value: string): string {
  return FORMULA_START.some((start) => value.startsWith(start)) ? `'${value}` : value;
}

t.test('the strict parser refuses what RFC 4180 does not allow', async (t) => {
  t.same(parseCsv('a,"b,""c"""\r\n,\r\n'), [
    ['a', 'b,"c"'],
    ['', ''],
  ]);
  t.throws(() => parseCsv('a\nb\r\n'), /CRLF/, 'a bare LF');
  t.throws(() => parseCsv('a"b\r\n'), /quote inside/, 'a quote in an unquoted field');
  t.throws(() => parseCsv('"a"b\r\n'), /comma or CRLF/, 'text after a closing quote');
  t.throws(() => parseCsv('a,b'), /CRLF/, 'no final CRLF');
});

t.test('grades.csv', async (t) => {
  for (const hostile of [true, false]) {
    const summary = sampleClassSummary({ hostile });
    const records = parseCsv(gradebookCsv(summary));
    const keys = summary.columns.map((column) => `${column.step}/${column.check}`);
    const [header, ...rows] = records;

    t.same(header, ['student', 'score', 'maxScore', 'passed', 'status', 'duplicateOf', 'message', ...keys], 'the header, then a column per check');
    t.equal(rows.length, summary.submissions.length, 'a record per entry of the class folder');
    t.ok(
      records.every((record) => record.length === header!.length),
      'every record has as many cells as the header',
    );

    summary.submissions.forEach((row, index) => {
      const cells = rows[index]!;
      const expected = [
        defused(row.student),
        String(row.score),
        String(row.maxScore),
        String(row.passed),
        row.status,
        defused(row.duplicateOf ?? ''),
        defused(row.message),
        ...keys.map((key) => (row.status === 'graded' ? String(row.points[key]) : '')),
      ];
      t.same(cells, expected, `${JSON.stringify(row.student)} round-trips`);
      if (row.status === 'graded') {
        const sum = cells.slice(7).reduce((total, cell) => total + Number(cell), 0);
        t.equal(sum, Number(cells[1]), `${JSON.stringify(row.student)}: the points columns add up to the score`);
      } else {
        t.ok(
          cells.slice(7).every((cell) => cell === ''),
          `${JSON.stringify(row.student)} (${row.status}): no points, not zeros`,
        );
      }
    });

    const textCells = rows.flatMap((cells) => [cells[0]!, cells[5]!, cells[6]!]);
    t.notOk(
      textCells.some((cell) => FORMULA_START.some((start) => cell.startsWith(start))),
      'no text cell starts like a formula',
    );
  }

  const rows = parseCsv(gradebookCsv(sampleClassSummary())).slice(1);
  for (const name of HOSTILE_NAMES) {
    const found = rows.find((cells) => cells[0] === defused(name));
    t.ok(found, `${JSON.stringify(name)} is in the sheet as ${JSON.stringify(defused(name))}`);
  }
  t.ok(
    rows.some((cells) => cells[6] === `'${HOSTILE_MESSAGE}`),
    'a message that starts with = is defused, its quotes, comma and newline kept',
  );
});

t.test('CSV cells', async (t) => {
  const cases: [string, string][] = [
    ['alice', 'alice'],
    ['', ''],
    ['=1+1', "'=1+1"],
    ['=HYPERLINK("x")', `"'=HYPERLINK(""x"")"`],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@a', "'@a"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['\nx', `"'\nx"`],
    ['\uff1d1+1', "'\uff1d1+1"],
    ['smith, john', '"smith, john"'],
    ['o"brien', '"o""brien"'],
    ['two\r\nlines', '"two\r\nlines"'],
    ["it's", "it's"],
    ['a=b', 'a=b'],
    ['(reference solution)', '(reference solution)'],
  ];
  for (const [value, cell] of cases) t.equal(textCell(value), cell, JSON.stringify(value));

  const summary = sampleClassSummary({ hostile: false });
  const alice = summary.submissions.find((row) => row.student === 'alice')!;
  const half: ClassSummary = {
    ...summary,
    columns: [{ step: '-step', check: 'x', title: 'x', maxPoints: 1, required: true }],
    submissions: [{ ...alice, score: 0.5, maxScore: 1, points: { '-step/x': 0.5 } }],
  };
  t.same(
    parseCsv(gradebookCsv(half)),
    [
      ['student', 'score', 'maxScore', 'passed', 'status', 'duplicateOf', 'message', "'-step/x"],
      ['alice', '0.5', '1', 'true', 'graded', '', '', '0.5'],
    ],
    'numbers are written as numbers; a header from the spec is defused too',
  );
});

function classValidator() {
  const read = (file: string) => JSON.parse(readFileSync(path.join(packageRoot, file), 'utf8')) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addSchema(read('reports/results.schema.json'));
  return ajv.compile(read('reports/class.schema.json'));
}

t.test('class.schema.json describes ClassResult', async (t) => {
  const validate = classValidator();
  for (const [name, sample] of [
    ['the sample class', sampleClassResult()],
    ['the sample class without hostile names', sampleClassResult({ hostile: false })],
    ['a shard', sampleClassResult({ shard: { index: 2, total: 3 } })],
  ] as const) {
    // As written to disk: what JSON keeps of it.
    const document = JSON.parse(JSON.stringify(sample)) as unknown;
    t.ok(validate(document), `${name} validates`, { errors: validate.errors });
  }
  // A run that ended with a required check the engine could not judge: an error, with its result and report.
  const unjudged = JSON.parse(JSON.stringify(sampleClassResult())) as ClassResult;
  const row = unjudged.submissions.find((each) => each.status === 'graded' && !each.passed)!;
  Object.assign(row, { status: 'error', message: 'pull access denied: no registry could be reached' });
  t.ok(validate(unjudged), 'an error row may carry the result of a run that could not judge', { errors: validate.errors });

  const broken: [string, (result: ClassResult & Record<string, unknown>) => void][] = [
    ['no exercise', (result) => Reflect.deleteProperty(result, 'exercise')],
    ['schemaVersion 2', (result) => Object.assign(result, { schemaVersion: 2 })],
    ['an extra key', (result) => Object.assign(result, { extra: true })],
    ['a row without a status', (result) => Reflect.deleteProperty(result.submissions[0]!, 'status')],
    ['a row whose status is "passed"', (result) => Object.assign(result.submissions[0]!, { status: 'passed' })],
    ['an extra key in a row', (result) => Object.assign(result.submissions[0]!, { grade: 'A' })],
    ['a graded row without its result', (result) => Object.assign(result.submissions.find((row) => row.status === 'graded')!, { result: null })],
    [
      'a skipped row with a result',
      (result) =>
        Object.assign(result.submissions.find((row) => row.status === 'skipped')!, {
          result: sampleClassResult().submissions.find((row) => row.result)!.result,
        }),
    ],
    [
      'a timed-out row with a result',
      (result) =>
        Object.assign(result.submissions.find((row) => row.status === 'timed-out')!, {
          result: sampleClassResult().submissions.find((row) => row.result)!.result,
        }),
    ],
    ['a skipped row with points', (result) => Object.assign(result.submissions.find((row) => row.status === 'skipped')!, { points: { 'a/b': 1 } })],
    ['a result that is not an ExerciseResult', (result) => Reflect.deleteProperty(result.submissions.find((row) => row.result)!.result!, 'steps')],
    [
      'a result with a check of an unknown status',
      (result) => Object.assign(result.submissions.find((row) => row.result)!.result!.steps[0]!.checks[0]!, { status: 'ok' }),
    ],
    ['a student name holding /', (result) => Object.assign(result.submissions[0]!, { student: 'a/b' })],
    ['a student named ..', (result) => Object.assign(result.submissions[0]!, { student: '..' })],
    ['duplicateOf a number', (result) => Object.assign(result.submissions[0]!, { duplicateOf: 3 })],
    ['a pass rate over 1', (result) => Object.assign(result.checks[0]!, { passRate: 1.5 })],
    ['an extra key in a check', (result) => Object.assign(result.checks[0]!, { difficulty: 'hard' })],
    [
      'six common messages',
      (result) => Object.assign(result.checks[0]!, { commonMessages: Array.from({ length: 6 }, (_, i) => ({ message: `m${i}`, count: 1 })) }),
    ],
    ['nine histogram bins', (result) => result.scores.histogram.pop()],
    ['a shard counted from 0', (result) => Object.assign(result, { shard: { index: 0, total: 2 } })],
    ['an image without its largest size', (result) => Reflect.deleteProperty(result.images[0]!, 'maxBytes')],
    ['an engine without its version', (result) => Reflect.deleteProperty(result.engine!, 'version')],
    ['a duplicate group without students', (result) => Object.assign(result.duplicates[0]!, { students: [] })],
  ];
  for (const [name, breakIt] of broken) {
    const document = JSON.parse(JSON.stringify(sampleClassResult())) as ClassResult & Record<string, unknown>;
    breakIt(document);
    t.notOk(validate(document), `refused: ${name}`);
  }
});

t.test('the dashboard keeps submission text as text', async (t) => {
  const summary = sampleClassSummary();
  const html = classDashboard(summary);

  t.notMatch(html, /<script/i, 'no script element');
  t.notMatch(html, /<img/i, 'no image element');
  // Every attribute value is double-quoted with its quotes escaped: without the values, what is left of a tag is its names.
  t.notMatch(html.replace(/="[^"]*"/g, '=""'), /<[a-z][^>]*\son[a-z]+\s*=/i, 'no event handler attribute in any tag');
  t.notMatch(html, /https?:/i, 'no address on the network');
  t.equal(html.match(/<style>/g)?.length, 1, 'one style element, the inline CSS');
  t.match(html, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none';`);

  const escape = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  for (const name of HOSTILE_NAMES) {
    t.ok(html.includes(`<span class="name">${escape(singleLine(name))}</span>`), `${JSON.stringify(name)} shows as escaped text`);
  }
  t.ok(html.includes('new\\nline'), 'a newline in a name shows as \\n, on one line');
  t.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'), 'a message with markup is escaped');
  t.ok(html.includes(`<td class="message">${escape(HOSTILE_MESSAGE)}</td>`), 'a message that is a formula and markup shows as it is, escaped');

  const order = [...html.matchAll(/<li class="item" data-check="([^"]*)" data-pass-rate="([^"]*)"/g)].map((match) => Number(match[2]));
  t.ok(order.length > 0, 'the checks are listed');
  t.same(
    order,
    [...order].sort((a, b) => a - b),
    'lowest pass rate first',
  );
});

t.test('report links stay inside the gradebook folder', async (t) => {
  const cases: [string, string | undefined][] = [
    ['students/alice/report.html', 'students/alice/report.html'],
    ['students/a b/report.html', 'students/a%20b/report.html'],
    ['students/#x/report.html', 'students/%23x/report.html'],
    ['students/?y/report.html', 'students/%3Fy/report.html'],
    ['students/%/report.html', 'students/%25/report.html'],
    ['students/%2e%2e/report.html', 'students/%252e%252e/report.html'],
    ['students/.../report.html', 'students/.../report.html'],
    ['students/new\nline/report.html', 'students/new%0Aline/report.html'],
    ['students/a\\b/report.html', 'students/a%5Cb/report.html'],
    ['javascript:alert(1)', 'javascript%3Aalert(1)'],
    ['students/"><x/report.html', 'students/%22%3E%3Cx/report.html'],
    ['../report.html', undefined],
    ['students/../../etc/passwd', undefined],
    ['students/./report.html', undefined],
    ['/etc/passwd', undefined],
    ['students//report.html', undefined],
    ['students/\ud800/report.html', undefined],
  ];
  for (const [report, href] of cases) t.equal(reportHref(report), href, JSON.stringify(report));

  const summary = sampleClassSummary({ hostile: false });
  const escaping: ClassSummary = {
    ...summary,
    submissions: summary.submissions.map((row) => (row.student === 'alice' ? { ...row, report: '../../outside/report.html' } : row)),
  };
  const html = classDashboard(escaping);
  const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]!);
  t.notOk(
    hrefs.some((href) => href.includes('..')),
    'a report path that climbs out gets no link',
  );
  t.match(html, /<th scope="row"><span class="name">alice<\/span><\/th>/, 'its name is still shown');
  t.same(
    hrefs.filter((href) => href.startsWith('students/')).length,
    summary.submissions.filter((row) => row.report !== null).length - 1,
    'every other report is linked',
  );
  t.ok(
    hrefs.every((href) => !/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('data:')),
    'no link has a scheme',
  );
});

t.test('the dashboard of an empty class', async (t) => {
  const summary = sampleClassSummary({ hostile: false });
  const empty: ClassSummary = { ...summary, submissions: [], checks: [], images: [], duplicates: [], scores: scoreSummary([], 28), engine: null };
  const html = classDashboard(empty);
  t.match(html, 'No submission was graded');
  t.match(html, 'No two submissions are identical.');
  t.match(html, 'No submission built an image');
  t.match(html, 'an unknown engine');
});

t.test('the dashboard names copies of the reference solution as such', async (t) => {
  const summary = sampleClassSummary({ hostile: false });
  const html = classDashboard(summary);
  const reference = summary.duplicates.find((group) => group.of === REFERENCE_SOLUTION);
  t.ok(reference, 'the sample has copies of the reference solution');
  t.match(html, `Identical to the exercise's reference solution: <span class="name">${reference!.students[0]}</span>`);
  t.notMatch(html, `copied by <span class="name">${reference!.students[0]}</span>`);
  t.match(html, '<span class="name">dave</span>, copied by <span class="name">erin</span>');
});
