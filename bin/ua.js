#!/usr/bin/env node
import { main } from '../dist/src/cli/ua.js';
process.exitCode = await main(process.argv.slice(2));
