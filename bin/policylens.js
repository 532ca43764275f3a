#!/usr/bin/env node
// The `policylens` command: Node runs the TypeScript sources itself, so the checkout needs no build step.
import './register-ts.js';
import './quiet-kafkajs.js';

const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
