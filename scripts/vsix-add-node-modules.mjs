// Adds the files under dist/vsix-node_modules/ to a VSIX as extension/node_modules/.
//
// tsserver loads an extension's TypeScript server plugin only from <extension>/node_modules/<name>,
// and `vsce package --no-dependencies` never packs a top-level node_modules (it globs with
// `ignore: 'node_modules/**'`, whatever .vscodeignore says). So after vsce has written the VSIX,
// this adds those few files to the zip with adm-zip.
//
// Usage: node scripts/vsix-add-node-modules.mjs <file.vsix> [--from dist/vsix-node_modules]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  console.error(`vsix-add-node-modules: ${message}`);
  process.exit(2);
}

function filesUnder(dir) {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

function main() {
  const args = process.argv.slice(2);
  const vsix = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--from');
  const from = path.resolve(args.includes('--from') ? args[args.indexOf('--from') + 1] : path.join(root, 'dist', 'vsix-node_modules'));
  if (vsix === undefined) fail('usage: node scripts/vsix-add-node-modules.mjs <file.vsix> [--from dir]');
  if (!fs.existsSync(vsix)) fail(`no VSIX at ${vsix}`);
  if (!fs.existsSync(from)) fail(`no ${from}: run scripts/bundle.mjs first`);
  const files = filesUnder(from).map((file) => ({
    name: `extension/node_modules/${path.relative(from, file).split(path.sep).join('/')}`,
    data: fs.readFileSync(file),
  }));
  if (files.length === 0) fail(`${from} holds no files`);
  let zip;
  try {
    zip = new AdmZip(vsix);
  } catch (error) {
    fail(`${vsix}: not a readable zip (${error instanceof Error ? error.message : String(error)})`);
  }
  const present = files.find((f) => zip.getEntry(f.name) !== null);
  if (present) fail(`${vsix}: the archive already holds ${present.name}`);
  for (const f of files) zip.addFile(f.name, f.data);
  zip.writeZip(vsix);
  console.log(`${path.basename(vsix)}: added ${files.map((f) => f.name).join(', ')}`);
}

main();
