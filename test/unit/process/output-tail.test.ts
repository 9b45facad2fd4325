// The tail of a child's output: at most the cap is kept, the last bytes, whole characters.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TailBuffer } from '../../../extension/process/output-tail';
import { lastLine, oneLine } from '../../../extension/process/ending';

describe('TailBuffer', () => {
  it('keeps everything under the cap', () => {
    const t = new TailBuffer(16);
    t.push(Buffer.from('hello '));
    t.push(Buffer.from('world'));
    assert.deepEqual(t.tail(), { text: 'hello world', droppedBytes: 0 });
  });

  it('keeps the last cap bytes of a long stream and counts the rest', () => {
    const t = new TailBuffer(1000);
    let written = 0;
    for (let i = 0; i < 100_000; i++) {
      const line = Buffer.from(`line ${i}\n`);
      written += line.length;
      t.push(line);
    }
    const { text, droppedBytes } = t.tail();
    assert.equal(Buffer.byteLength(text), 1000);
    assert.equal(droppedBytes, written - 1000);
    assert.ok(text.endsWith('line 99998\nline 99999\n'));
  });

  it('drops a character cut in half by the cap rather than showing a replacement character', () => {
    const t = new TailBuffer(5);
    t.push(Buffer.from('aé€z')); // a(1) é(2) €(3) z(1): the last 5 bytes cut é
    const { text, droppedBytes } = t.tail();
    assert.equal(text, '€z');
    assert.equal(droppedBytes, 3);
  });
});

describe('error lines', () => {
  it('folds newlines and colour codes into one line of at most 300 characters', () => {
    const line = oneLine(`first\n    at frame (x.js:1:2)\n\x1b[31mred\x1b[0m ${'y'.repeat(400)}`);
    assert.ok(line.length <= 300);
    assert.ok(!line.includes('\n') && !line.includes('\x1b'));
    assert.ok(line.startsWith('first at frame (x.js:1:2) red yyy') && line.endsWith('...'));
  });

  it('takes the last non-empty line of a tail', () => {
    assert.equal(lastLine('a\nb\n\n  \n'), 'b');
    assert.equal(lastLine(''), '');
  });
});
