// The safe-write module on the real file system: what an in-place edit keeps (mode, owner, symlink,
// hard links, bytes outside the edit), what it refuses (read-only, changed, a race), new files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkNewFile, decodeSource, encodeSource, matchLineEndings, writeInPlace, writeNewFile } from '../../../extension/analysis/write-file';
import { MemlensError } from '../../../extension/engine/errors';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-write-'));
}

const oneLine = (re: RegExp) => (e: unknown) => e instanceof MemlensError && re.test(e.message) && !e.message.includes('\n') && e.message.length <= 300;

describe('writeInPlace', () => {
  it('keeps the mode (0600, +x) and owner', async () => {
    const dir = tmp();
    for (const mode of [0o600, 0o755]) {
      const f = path.join(dir, `m${mode.toString(8)}.py`);
      fs.writeFileSync(f, 'a = 1\n');
      fs.chmodSync(f, mode);
      const st = fs.statSync(f);
      await writeInPlace(f, fs.readFileSync(f), 'a = 2\n');
      const now = fs.statSync(f);
      assert.equal(fs.readFileSync(f, 'utf8'), 'a = 2\n');
      assert.equal(now.mode & 0o7777, mode);
      assert.deepEqual([now.uid, now.gid, now.ino], [st.uid, st.gid, st.ino]);
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), ['m600.py', 'm755.py'], 'no temp or backup left');
  });

  it('writes through a symlink, which stays a symlink, and keeps hard links joined', async () => {
    const dir = tmp();
    const real = path.join(dir, 'real.ts');
    fs.writeFileSync(real, 'x\n');
    fs.symlinkSync(real, path.join(dir, 'link.ts'));
    fs.linkSync(real, path.join(dir, 'hard.ts'));
    await writeInPlace(path.join(dir, 'link.ts'), Buffer.from('x\n'), 'y\n');
    assert.equal(fs.lstatSync(path.join(dir, 'link.ts')).isSymbolicLink(), true);
    assert.equal(fs.readFileSync(real, 'utf8'), 'y\n');
    await writeInPlace(path.join(dir, 'hard.ts'), Buffer.from('y\n'), 'z\n');
    assert.equal(fs.readFileSync(real, 'utf8'), 'z\n', 'the other name of the hard link sees the edit');
    assert.equal(fs.statSync(real).nlink, 2);
  });

  it('refuses a read-only file, even as root, and leaves it as it was', async () => {
    const f = path.join(tmp(), 'ro.py');
    fs.writeFileSync(f, 'keep\n');
    fs.chmodSync(f, 0o444);
    await assert.rejects(writeInPlace(f, Buffer.from('keep\n'), 'lost\n'), oneLine(/ro\.py: is read-only; not written$/));
    assert.equal(fs.readFileSync(f, 'utf8'), 'keep\n');
  });

  it('refuses when the file changed since it was read', async () => {
    const f = path.join(tmp(), 'm.py');
    fs.writeFileSync(f, 'edited meanwhile\n');
    await assert.rejects(writeInPlace(f, Buffer.from('as read\n'), 'rewritten\n'), oneLine(/changed on disk since it was read; not written/));
    assert.equal(fs.readFileSync(f, 'utf8'), 'edited meanwhile\n');
  });

  it('refuses an edit that lands between the last check and the write, keeping it and leaving no backup', async () => {
    const dir = tmp();
    const f = path.join(dir, 'm.py');
    fs.writeFileSync(f, 'as read\n');
    const race = () => fs.writeFileSync(f, 'the user saved this\n');
    await assert.rejects(writeInPlace(f, Buffer.from('as read\n'), 'rewritten\n', { afterCheck: race }), oneLine(/changed on disk while it was being written; not written/));
    assert.equal(fs.readFileSync(f, 'utf8'), 'the user saved this\n');
    assert.deepEqual(fs.readdirSync(dir), ['m.py']);
  });

  it('reports a file replaced by rename during the write, keeping the new file', async () => {
    const dir = tmp();
    const f = path.join(dir, 'm.py');
    fs.writeFileSync(f, 'as read\n');
    // An editor that saves by rename: our handle still points at the old inode.
    let swapped = false;
    const race = () => {
      fs.writeFileSync(path.join(dir, 'new'), 'saved by rename\n');
      fs.renameSync(path.join(dir, 'new'), f);
      swapped = true;
    };
    await assert.rejects(writeInPlace(f, Buffer.from('as read\n'), 'rewritten\n', { afterCheck: race }), oneLine(/was replaced while it was written; the new file is kept/));
    assert.equal(swapped, true);
    assert.equal(fs.readFileSync(f, 'utf8'), 'saved by rename\n');
  });
});

describe('writeNewFile', () => {
  it('writes a new file and refuses an existing one without replace, or any name of an input', async () => {
    const dir = tmp();
    const input = path.join(dir, 'm.onnx');
    fs.writeFileSync(input, 'model');
    fs.linkSync(input, path.join(dir, 'alias.onnx'));
    const out = path.join(dir, 'out.onnx');
    await writeNewFile(out, 'copy', { inputs: [input], replace: false });
    assert.equal(fs.readFileSync(out, 'utf8'), 'copy');
    await assert.rejects(writeNewFile(out, 'again', { inputs: [input], replace: false }), oneLine(/out\.onnx: already exists; not replaced \(pass --force/));
    assert.equal(fs.readFileSync(out, 'utf8'), 'copy');
    for (const name of [input, path.join(dir, 'alias.onnx'), `${dir}/./m.onnx`]) {
      await assert.rejects(checkNewFile(name, { inputs: [input], replace: true }), oneLine(/is the model being read; an input is never overwritten/));
    }
    await writeNewFile(out, 'replaced', { inputs: [input], replace: true });
    assert.equal(fs.readFileSync(out, 'utf8'), 'replaced');
    assert.equal(fs.readFileSync(input, 'utf8'), 'model');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['alias.onnx', 'm.onnx', 'out.onnx']);
  });
});

describe('source text round trip', () => {
  it('a latin-1 file decodes and encodes back byte for byte, and an edit keeps its other bytes', () => {
    // "# coding: latin-1\n# café ±\nx = 1\n" in latin-1: é is 0xE9, ± is 0xB1 (invalid UTF-8).
    const bytes = Buffer.concat([Buffer.from('# coding: latin-1\n# caf'), Buffer.from([0xe9, 0x20, 0xb1]), Buffer.from('\nx = 1\n')]);
    const s = decodeSource(bytes);
    assert.equal(s.encoding, 'latin1');
    assert.deepEqual(encodeSource(s, 'm.py'), bytes);
    const edited = encodeSource({ ...s, text: s.text.replace('x = 1', 'x = 2') }, 'm.py');
    assert.deepEqual(edited, Buffer.concat([bytes.subarray(0, bytes.length - 2), Buffer.from('2\n')]));
    assert.throws(() => encodeSource({ ...s, text: s.text + '→' }, 'm.py'), oneLine(/m\.py: the file is not UTF-8/));
  });

  it('UTF-8 with a BOM round-trips byte for byte', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('# ünïcode\n')]);
    const s = decodeSource(bytes);
    assert.equal(s.encoding, 'utf8');
    assert.deepEqual(encodeSource(s, 'm.py'), bytes);
  });

  it('lines inserted into a CRLF file end in CRLF; the rest of the file is unchanged', () => {
    const original = 'import torch\r\nclass M:\r\n    pass\r\n';
    // What a rewriter that inserts "\n<line>" at a line's end gives: the '\r' moved to the new line.
    const next = 'import torch\nimport torch.utils.checkpoint\r\nclass M:\r\n    pass\r\n';
    assert.equal(matchLineEndings(original, next), 'import torch\r\nimport torch.utils.checkpoint\r\nclass M:\r\n    pass\r\n');
    // LF files and mixed files where LF dominates are left alone.
    assert.equal(matchLineEndings('a\nb\n', 'a\nc\nb\n'), 'a\nc\nb\n');
    assert.equal(matchLineEndings('a\r\nb\r\n', 'a\r\nb\r\n'), 'a\r\nb\r\n');
  });
});
