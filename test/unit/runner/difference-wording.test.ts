// The difference always reads from the estimate's side, relative to the measured figure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { estimateVsMeasured } from '../../../extension/engine/difference-wording';

describe('estimateVsMeasured', () => {
  it('reads below, above and equal from (measured - estimated) / measured', () => {
    // measured 100, estimated 51.4: (100 - 51.4) / 100 = 48.6% below.
    assert.equal(estimateVsMeasured(48.6), 'estimate 48.6% below measured');
    assert.equal(estimateVsMeasured(-12.25), 'estimate 12.3% above measured');
    assert.equal(estimateVsMeasured(0.01), 'estimate equal to measured');
    assert.equal(estimateVsMeasured(Number.NaN), 'no measured figure to compare with');
  });
});
