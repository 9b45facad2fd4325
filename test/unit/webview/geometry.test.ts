// The peak label never covers its marker; the keyboard cursor moves across the drawn steps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cursorAfterKey, markerBox, overlaps, peakLabelBox } from '../../../webview/timeline/geometry';

/** A small seeded generator (mulberry32), so the sweep is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('the peak label sits beside the marker, never on it, and inside the plot', () => {
  const r = random(7);
  const area = { left: 60, top: 20, right: 960, bottom: 320 };
  for (let i = 0; i < 5000; i++) {
    const marker = { x: area.left + r() * (area.right - area.left), y: area.top + r() * (area.bottom - area.top) };
    const size = { w: 40 + r() * 180, h: 14 };
    const box = peakLabelBox(marker, size, area);
    assert.equal(overlaps(box, markerBox(marker)), false, `label ${JSON.stringify(box)} on marker ${JSON.stringify(marker)}`);
    assert.ok(box.x >= area.left && box.x + box.w <= area.right + 0.001, `inside horizontally: ${JSON.stringify(box)}`);
  }
});

test('the label goes right of the marker, or left near the right edge', () => {
  const area = { left: 0, top: 0, right: 500, bottom: 300 };
  assert.ok(peakLabelBox({ x: 100, y: 50 }, { w: 80, h: 14 }, area).x > 100);
  assert.ok(peakLabelBox({ x: 480, y: 50 }, { w: 80, h: 14 }, area).x + 80 < 480);
  // At the top of the plot (a peak is the highest point) the label stays inside, centred when it can be.
  assert.equal(peakLabelBox({ x: 100, y: 2 }, { w: 80, h: 14 }, area).y, 0);
});

test('arrow keys move one step, Shift ten per cent, Home and End to the ends, P to the peak', () => {
  assert.equal(cursorAfterKey('ArrowRight', false, 3, 100, 50), 4);
  assert.equal(cursorAfterKey('ArrowLeft', false, 0, 100, 50), 0);
  assert.equal(cursorAfterKey('ArrowRight', true, 3, 100, 50), 13);
  assert.equal(cursorAfterKey('ArrowRight', false, 99, 100, 50), 99);
  assert.equal(cursorAfterKey('Home', false, 40, 100, 50), 0);
  assert.equal(cursorAfterKey('End', false, 40, 100, 50), 99);
  assert.equal(cursorAfterKey('p', false, 40, 100, 50), 50);
  assert.equal(cursorAfterKey('PageDown', false, 95, 100, 50), 99);
  assert.equal(cursorAfterKey('a', false, 40, 100, 50), null);
  assert.equal(cursorAfterKey('ArrowRight', false, 0, 0, 0), null);
});
