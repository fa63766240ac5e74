// What a program's output must be: exactly a text, contain one, or match a regular expression
// (RE2 syntax, matched in linear time: see `regex()` in runner/spec/shapes.ts).
import { isMap } from 'yaml';
import type { CapturedOutput } from '../runner/engine/engine.js';
import { INVALID, optional, parseFields, regex, text, type Pattern, type Shape } from '../runner/spec/shapes.js';
import { quoteOutput } from '../runner/text/format.js';

export type OutputMatcher = { equals: string } | { contains: string } | { matches: Pattern };

const matcherFields = { equals: optional(text()), contains: optional(text()), matches: optional(regex()) };

export function outputMatcher(): Shape<OutputMatcher> {
  return {
    expects: 'a mapping with one of equals, contains or matches',
    parse(node, at) {
      if (!isMap(node)) return at.report('expected a mapping with one of equals, contains or matches', node);
      const fields = parseFields(matcherFields, node, at, new Set());
      if (fields === INVALID) return INVALID;
      const given = Object.entries(fields).filter(([, value]) => value !== undefined);
      if (given.length !== 1) return at.report('give exactly one of equals, contains or matches', node);
      return Object.fromEntries(given) as OutputMatcher;
    },
    jsonSchema: () => ({
      type: 'object',
      properties: { equals: { type: 'string' }, contains: { type: 'string' }, matches: { type: 'string', format: 'regex' } },
      minProperties: 1,
      maxProperties: 1,
      additionalProperties: false,
    }),
  };
}

export function describeMatcher(matcher: OutputMatcher): string {
  if ('equals' in matcher) return quoteOutput(matcher.equals);
  if ('contains' in matcher) return `text containing ${quoteOutput(matcher.contains)}`;
  return `text matching /${matcher.matches.source}/`;
}

export function matches(matcher: OutputMatcher, output: CapturedOutput): boolean {
  if ('equals' in matcher) return !output.truncated && output.text === matcher.equals;
  if ('contains' in matcher) return output.text.includes(matcher.contains);
  return matcher.matches.test(output.text);
}
