// Rewrites the README's counter table from the addon's own list (stack/lcore/counters.h), so the
// documentation cannot drift from the stack. Run after adding a counter: node scripts/readme-counters.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { loadAddon } from '../dist/native/index.js';

const docs = loadAddon().counterDocs();
const table = ['| Counter | Meaning |', '|---|---|', ...Object.entries(docs).map(([k, v]) => `| \`${k}\` | ${v} |`)].join('\n');
const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf('| Counter | Meaning |');
const end = readme.indexOf('\n\n', start);
if (start < 0 || end < 0) throw new Error('README.md has no counter table');
writeFileSync('README.md', readme.slice(0, start) + table + readme.slice(end));
console.log(`README.md: ${Object.keys(docs).length} counters`);
