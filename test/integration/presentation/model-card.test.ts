// The ONNX summary's model card read from real models agrees with the onnx package's own reading
// of the same files (python3-onnx): inputs and outputs with their dims, opsets, producer, node
// count and file size.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { profileFile } from '../../../extension/analysis/profile-file';
import { withDefaults } from '../../../extension/engine/settings';
import { modelPath, requireFixtures, type FixtureModelName } from '../../fixtures/real-models';

const FACTS = `
import json, os, sys, onnx
from onnx import mapping
def tensor(v):
    t = v.type.tensor_type
    dims = None if not t.HasField('shape') else [d.dim_param if d.HasField('dim_param') else (d.dim_value if d.HasField('dim_value') else None) for d in t.shape.dim]
    return {'name': v.name, 'dtype': mapping.TENSOR_TYPE_TO_NP_TYPE[t.elem_type].name, 'dims': dims}
out = {}
for f in sys.argv[1:]:
    m = onnx.load(f, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    out[f] = {
        'inputs': [tensor(v) for v in m.graph.input if v.name not in inits],
        'outputs': [tensor(v) for v in m.graph.output],
        'opsets': sorted([[o.domain if o.domain != 'ai.onnx' else '', o.version] for o in m.opset_import]),
        'producer': ' '.join(x for x in [m.producer_name, m.producer_version] if x),
        'nodes': len(m.graph.node),
        'bytes': os.path.getsize(f),
    }
print(json.dumps(out))
`;

const names: FixtureModelName[] = ['resnet18', 'transformer_encoder', 'ppocr_v4_rec', 'ppocr_mobile_v2_cls'];

test('the model card of real models matches the onnx package', { timeout: 120_000 }, async () => {
  requireFixtures(...names);
  const files = names.map(modelPath);
  const facts = JSON.parse(execFileSync('/usr/bin/python3', ['-c', FACTS, ...files], { encoding: 'utf8' })) as Record<string, {
    inputs: Array<{ name: string; dtype: string; dims: Array<string | number | null> | null }>;
    outputs: Array<{ name: string; dtype: string; dims: Array<string | number | null> | null }>;
    opsets: Array<[string, number]>; producer: string; nodes: number; bytes: number;
  }>;
  for (const file of files) {
    const { card } = await profileFile({ file, settings: withDefaults({}), trusted: false, timeoutMs: 60_000 });
    const want = facts[file];
    const cardTensor = (t: typeof card.inputs[number]) => ({
      name: t.name, dtype: t.dtype,
      dims: t.dims === null ? null : t.dims.map((d) => (d.kind === 'fixed' ? d.size : d.kind === 'symbolic' ? d.name : null)),
    });
    assert.deepEqual(card.inputs.map(cardTensor), want.inputs, `${file} inputs`);
    assert.deepEqual(card.outputs.map(cardTensor), want.outputs, `${file} outputs`);
    assert.deepEqual(card.opsets.map((o) => [o.domain, o.version]), want.opsets, `${file} opsets`);
    assert.equal(card.producer, want.producer);
    assert.equal(card.nodeCount, want.nodes);
    assert.equal(card.fileBytes, want.bytes);
  }
});
