// `grade schema [exercise|step]`: the JSON Schema (2020-12) of exercise.yaml or of a step file,
// made from the loader's own shapes, for editors that check and complete a spec while it is typed.
import { EXIT } from '../../results.js';
import { StrictCommand, UsageError } from '../command-line.js';

export function schemaCommand(): StrictCommand {
  return new StrictCommand('schema')
    .usage('[exercise|step]')
    .description('print the JSON Schema of exercise.yaml or of a step file (both, as {exercise, step}, when not named)')
    .argument('[kind]')
    .runs((kind: string | undefined) => printSchema(kind));
}

async function printSchema(kind: string | undefined): Promise<number> {
  const { SPEC_KINDS, specJsonSchema } = await import('../../spec/loader.js');
  let document: unknown;
  if (kind === undefined) {
    document = Object.fromEntries(SPEC_KINDS.map((each) => [each, specJsonSchema(each)]));
  } else {
    const known = SPEC_KINDS.find((each) => each === kind);
    if (!known) throw new UsageError(`no schema "${kind}": name ${SPEC_KINDS.join(' or ')}, or nothing for both`);
    document = specJsonSchema(known);
  }
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  return EXIT.passed;
}
