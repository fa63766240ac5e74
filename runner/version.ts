// The grader's own version, read once from package.json wherever the code runs from.
import { readFileSync } from 'node:fs';
import { packageRoot } from './paths.js';

export const version: string = (JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as { version: string }).version;
