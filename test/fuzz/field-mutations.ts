// Field-level mutations of a decoded ModelProto: each picks one field a careless exporter or an
// attacker could set and gives it a hostile value. Returns a short name of what it did.
import type { PbModel, PbNode } from '../../extension/engine/onnx/schema';
import type { Rng } from '../../extension/engine/seeded-random';

const SIZES = [-1, -2, -(2 ** 62), 2 ** 62, 2 ** 53 + 1, 0, 1e15, 3];
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];

type Mutation = (pb: PbModel, rng: Rng) => void;

const nodes = (pb: PbModel): PbNode[] => pb.graph?.node ?? [];

const MUTATIONS: Record<string, Mutation> = {
  'input-dim': (pb, rng) => {
    const dims = pb.graph?.input?.[0]?.type?.tensorType?.shape?.dim ?? [];
    if (dims.length) Object.assign(pick(rng, dims), { dimValue: pick(rng, SIZES), dimParam: undefined, value: 'dimValue' });
  },
  'value-info-dim': (pb, rng) => {
    const dims = pick(rng, [...(pb.graph?.valueInfo ?? []), ...(pb.graph?.output ?? [])])?.type?.tensorType?.shape?.dim ?? [];
    if (dims.length) Object.assign(pick(rng, dims), { dimValue: pick(rng, SIZES), dimParam: undefined, value: 'dimValue' });
  },
  'init-dims': (pb, rng) => {
    const t = pick(rng, pb.graph?.initializer ?? []);
    if (t?.dims?.length) t.dims[Math.floor(rng() * t.dims.length)] = pick(rng, SIZES);
  },
  'attr-int': (pb, rng) => {
    const withInts = nodes(pb).flatMap((n) => n.attribute ?? []).filter((a) => a.i !== undefined || a.ints?.length);
    const a = withInts.length ? pick(rng, withInts) : undefined;
    if (!a) return;
    if (a.ints?.length) a.ints[Math.floor(rng() * a.ints.length)] = pick(rng, [...SIZES, -1e9]);
    else a.i = pick(rng, [...SIZES, -1e9]);
  },
  'dangling-input': (pb, rng) => {
    const n = pick(rng, nodes(pb));
    if (n?.input?.length) n.input[Math.floor(rng() * n.input.length)] = `ghost_${Math.floor(rng() * 1e6)}`;
  },
  cycle: (pb, rng) => {
    // A node reads the output of a later node: a cycle once that node depends on this one.
    const ns = nodes(pb);
    if (ns.length < 3) return;
    const i = Math.floor(rng() * (ns.length - 1));
    const later = ns[i + 1 + Math.floor(rng() * (ns.length - i - 1))];
    if (ns[i].input?.length && later.output?.length) ns[i].input[0] = later.output[0];
  },
  'duplicate-output': (pb, rng) => {
    const ns = nodes(pb);
    if (ns.length < 2) return;
    const a = pick(rng, ns), b = pick(rng, ns);
    if (a.output?.length && b.output?.length) a.output[0] = b.output[0];
  },
  opset: (pb, rng) => {
    for (const o of pb.opsetImport ?? []) if (!o.domain) o.version = pick(rng, [0, 1, 6, 99, -3, 2 ** 40]);
  },
  'op-type': (pb, rng) => {
    const n = pick(rng, nodes(pb));
    if (n) n.opType = pick(rng, ['Split', 'Expand', 'Range', 'Loop', 'If', 'Reshape', 'NoSuchOp', '', 'Concat']);
  },
  'external-data': (pb, rng) => {
    const t = pick(rng, pb.graph?.initializer ?? []);
    if (!t) return;
    t.dataLocation = 1;
    t.externalData = [
      { key: 'location', value: pick(rng, ['../../etc/passwd', '/etc/shadow', 'a/../../b.bin', 'ok.bin', '']) },
      { key: 'offset', value: pick(rng, ['0', '-8', '1e30', 'x']) },
      { key: 'length', value: pick(rng, ['0', '-1', '99999999999999999999', '4']) },
    ];
  },
  'remove-nodes': (pb, rng) => {
    const ns = nodes(pb);
    const keep = Math.floor(rng() * ns.length);
    ns.splice(keep, Math.max(1, Math.floor(rng() * 5)));
  },
  'dtype': (pb, rng) => {
    const t = pick(rng, pb.graph?.initializer ?? []);
    if (t) t.dataType = pick(rng, [0, 8, 99, -1, 16, 23]);
  },
};

export function mutateFields(pb: PbModel, rng: Rng): string {
  const names = Object.keys(MUTATIONS);
  const n = 1 + Math.floor(rng() * 2);
  const done: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = pick(rng, names);
    MUTATIONS[name](pb, rng);
    done.push(name);
  }
  return done.join('+');
}
