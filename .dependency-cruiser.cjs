// The direction of dependencies between the folders, checked by `npm test` (npm run deps).
// Data flows one way: spec + submission -> grading (through graders and the engine) -> results
// -> reports; the CLI sits on top and may use everything.
const ours = '^(runner|graders|reports)/';

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'engine-uses-nothing-of-ours',
      comment: 'runner/engine/ talks to Docker; it knows nothing of specs, graders, grading or reports.',
      severity: 'error',
      from: { path: '^runner/engine/' },
      to: { path: ours, pathNot: '^runner/engine/' },
    },
    {
      name: 'reports-use-results-alone',
      comment: 'A report is a pure function of the results (and of the plain-text helpers).',
      severity: 'error',
      from: { path: '^reports/' },
      to: { path: ours, pathNot: ['^reports/', '^runner/(class-)?results\\.ts$', '^runner/text/'] },
    },
    {
      name: 'text-is-a-leaf',
      severity: 'error',
      from: { path: '^runner/text/' },
      to: { path: ours, pathNot: '^runner/text/' },
    },
    {
      name: 'results-are-a-leaf',
      severity: 'error',
      from: { path: '^runner/results\\.ts$' },
      to: { path: ours },
    },
    {
      name: 'class-results-build-on-results-alone',
      severity: 'error',
      from: { path: '^runner/class-results\\.ts$' },
      to: { path: ours, pathNot: '^runner/results\\.ts$' },
    },
    {
      name: 'submission-reads-files-only',
      comment: 'Reading and packing a submission folder needs nothing but text helpers.',
      severity: 'error',
      from: { path: '^runner/submission/' },
      to: { path: ours, pathNot: ['^runner/submission/', '^runner/text/'] },
    },
    {
      name: 'dockerfile-parses-only',
      severity: 'error',
      from: { path: '^runner/dockerfile/' },
      to: { path: ours, pathNot: ['^runner/dockerfile/', '^runner/submission/', '^runner/text/'] },
    },
    {
      name: 'graders-judge-only',
      comment: 'Check kinds use engine types, the Dockerfile parser, spec shapes, submission files and text helpers; never grading, the CLI or reports.',
      severity: 'error',
      from: { path: '^graders/' },
      to: { path: ['^runner/(cli|grading)/', '^runner/spec/(loader|limits)\\.ts$', '^reports/'] },
    },
    {
      name: 'spec-does-not-grade',
      severity: 'error',
      from: { path: '^runner/spec/' },
      to: { path: ['^runner/(cli|grading|submission/build-context)', '^reports/'] },
    },
    {
      name: 'only-the-cli-uses-the-cli',
      severity: 'error',
      from: { path: ours, pathNot: '^runner/cli/' },
      to: { path: '^runner/cli/' },
    },
    {
      name: 'batch-sits-on-grading',
      comment: 'Batch grading drives single gradings and writes the gradebook; nothing below it knows of classes.',
      severity: 'error',
      from: { path: ours, pathNot: ['^runner/(cli|batch)/'] },
      to: { path: '^runner/batch/' },
    },
    {
      name: 'authoring-and-doctor-serve-the-cli',
      comment: 'Self-testing and scaffolding exercises, and checking the machine, use grading and the engine; only the CLI uses them.',
      severity: 'error',
      from: { path: ours, pathNot: ['^runner/cli/', '^runner/authoring/', '^runner/doctor/'] },
      to: { path: '^runner/(authoring|doctor)/' },
    },
    {
      name: 'authoring-sits-on-grading',
      comment: 'grade new and grade selftest write an exercise and grade its own solution and controls.',
      severity: 'error',
      from: { path: '^runner/authoring/' },
      to: { path: ours, pathNot: ['^runner/(authoring|grading|spec|engine|dockerfile|text)/', '^runner/results\\.ts$'] },
    },
    {
      name: 'doctor-checks-only',
      comment: "The doctor uses the engine, the spec, the Dockerfile parser and grading's session; it writes no report, judges no check and grades no class.",
      severity: 'error',
      from: { path: '^runner/doctor/' },
      to: { path: ['^reports/', '^graders/', '^runner/(cli|batch|authoring)/'] },
    },
    {
      name: 'grading-never-reports',
      comment: 'Grading produces results; which report is written is the CLI\'s business.',
      severity: 'error',
      from: { path: '^runner/grading/' },
      to: { path: '^reports/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
