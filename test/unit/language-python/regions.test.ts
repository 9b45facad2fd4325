import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph, GraphNode } from '../../../extension/engine/graph';
import { CHECKPOINT_KEY, OFFLOAD_KEY } from '../../../extension/engine/metadata-keys';
import { callIndices, regionOf, writeRegions } from '../../../language/python/regions';
import type { ModuleRegions } from '../../../language/python/regions';
import { locateNodes } from '../../../language/python/source-map';
import type { ModuleRecord, NodeLocation } from '../../../language/python/source-map';

const record = (path: string, className: string): ModuleRecord => ({
  path, className, classModule: 'net', classFile: '/src/net.py', forwardQualname: `${className}.forward`, forwardFile: '/src/net.py', forwardLine: 1, builtin: false,
});

// Net.forward: x = self.embed(x); for b in self.blocks: x = checkpoint(b, x); x = self.norm(x);
// with save_on_cpu(): x = self.norm(x); return self.head(x). `norm` is called twice, once offloaded.
const MODULES: ModuleRecord[] = [
  record('', 'Net'), record('embed', 'Linear'), record('blocks', 'ModuleList'),
  record('blocks.0', 'Block'), record('blocks.0.fc', 'Linear'),
  record('blocks.1', 'Block'), record('blocks.1.fc', 'Linear'),
  record('norm', 'LayerNorm'), record('head', 'Linear'),
];

const REGIONS: ModuleRegions[] = [
  { path: 'blocks.0', calls: [{ checkpoint: 'checkpoint:0', offload: null }] },
  { path: 'blocks.0.fc', calls: [{ checkpoint: 'checkpoint:0', offload: null }] },
  { path: 'blocks.1', calls: [{ checkpoint: 'checkpoint:1', offload: null }] },
  { path: 'blocks.1.fc', calls: [{ checkpoint: 'checkpoint:1', offload: null }] },
  { path: 'norm', calls: [{ checkpoint: null, offload: null }, { checkpoint: null, offload: 'offload:0' }] },
];

const node = (name: string, opType: string): GraphNode => ({ name, opType, domain: '', inputs: [], outputs: [], attributes: {}, metadata: {} });

function graph(): Graph {
  return {
    name: 'g', inputs: [], outputs: [], initializers: new Map(), valueInfo: new Map(),
    nodes: [
      node('/embed/Gemm', 'Gemm'),
      node('/blocks.0/fc/Gemm', 'Gemm'),
      node('/blocks.0/Add', 'Add'), // written in Block.forward itself: its scope is the checkpointed module
      node('/blocks.1/fc/Gemm', 'Gemm'),
      node('/blocks.1/Add', 'Add'),
      node('/norm/LayerNormalization', 'LayerNormalization'),
      node('/norm_1/LayerNormalization', 'LayerNormalization'),
      node('/head/Gemm', 'Gemm'),
    ],
  };
}

/** The innermost module of each node, from source-map's scope chains (no forwards parsed here). */
const scopes = (g: Graph): Map<string, NodeLocation> => locateNodes(g, MODULES, () => null);

test('regionOf: one region for every call, the call index for mixed calls, else none', () => {
  const calls = REGIONS[4].calls;
  assert.equal(regionOf(REGIONS[0].calls, 'checkpoint', null), 'checkpoint:0');
  assert.equal(regionOf(REGIONS[0].calls, 'offload', null), null);
  assert.equal(regionOf(calls, 'offload', 0), null);
  assert.equal(regionOf(calls, 'offload', 1), 'offload:0');
  assert.equal(regionOf(calls, 'offload', null), null, 'unknown call of a mixed module: left unmarked');
  assert.equal(regionOf(calls, 'offload', 5), null);
});

test('callIndices: the nth scope instance of a module is its nth call', () => {
  const g = graph();
  const calls = callIndices(g, MODULES);
  assert.equal(calls.get('/norm/LayerNormalization'), 0);
  assert.equal(calls.get('/norm_1/LayerNormalization'), 1);
  assert.equal(calls.get('/blocks.0/fc/Gemm'), 0);
  assert.equal(calls.get('/blocks.1/Add'), 0);
});

test('writeRegions: block nodes, their own ops included, get the region id; the rest none', () => {
  const g = graph();
  const located = scopes(g);
  assert.equal(located.get('/blocks.0/Add')?.scope, 'blocks.0');
  assert.equal(located.get('/blocks.1/fc/Gemm')?.scope, 'blocks.1.fc');
  assert.equal(located.get('/norm_1/LayerNormalization')?.scope, 'norm');
  const counts = writeRegions(g, located, REGIONS, callIndices(g, MODULES));
  assert.deepEqual(counts, { checkpoint: 4, offload: 1 });
  const meta = Object.fromEntries(g.nodes.map((n) => [n.name, [n.metadata[CHECKPOINT_KEY] ?? null, n.metadata[OFFLOAD_KEY] ?? null]]));
  assert.deepEqual(meta, {
    '/embed/Gemm': [null, null],
    '/blocks.0/fc/Gemm': ['checkpoint:0', null],
    '/blocks.0/Add': ['checkpoint:0', null],
    '/blocks.1/fc/Gemm': ['checkpoint:1', null],
    '/blocks.1/Add': ['checkpoint:1', null],
    '/norm/LayerNormalization': [null, null],
    '/norm_1/LayerNormalization': [null, 'offload:0'],
    '/head/Gemm': [null, null],
  });
});

test('writeRegions: no records leave the graph untouched', () => {
  const g = graph();
  assert.deepEqual(writeRegions(g, scopes(g), []), { checkpoint: 0, offload: 0 });
  assert.ok(g.nodes.every((n) => Object.keys(n.metadata).length === 0));
});
