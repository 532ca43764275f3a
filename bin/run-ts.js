#!/usr/bin/env node
// Runs a TypeScript file of the project (benchmarks, scripts): node bin/run-ts.js FILE.ts [args]
import './register-ts.js';
import './quiet-kafkajs.js';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [file, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], file, ...args];
await import(pathToFileURL(resolve(file)).href);
