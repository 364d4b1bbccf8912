// Writes dist/man/ua.1 from the built help (src/cli/help.ts manPage: the same option table as
// `ua --help`); run by `npm run build`, shipped through package.json's `man` field.
import { mkdirSync, writeFileSync } from 'node:fs';
import { URL } from 'node:url';
import { manPage } from '../dist/src/cli/help.js';

const dir = new URL('../dist/man/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('ua.1', dir), manPage());
