#!/usr/bin/env node
// In a checkout, the compiled sources (npm run build); in a package, the bundled CLI.
const fs = require('node:fs');
const path = require('node:path');
const bundled = path.join(__dirname, '..', 'dist', 'cli.js');
const compiled = path.join(__dirname, '..', 'out', 'extension', 'cli', 'main.js');
const entry = fs.existsSync(compiled) ? compiled : bundled;
if (!fs.existsSync(entry)) {
  process.stderr.write('memlens: not built yet; run `npm run build` first\n');
  process.exit(2);
}
require(entry).runCli(process.argv.slice(2));
