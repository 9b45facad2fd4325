// Plain TypeScript reference computations (row-major arrays), the ground truth for traced graphs.

export interface Arr {
  data: Float64Array;
  shape: number[];
}

export const arr = (data: ArrayLike<number>, shape: number[]): Arr => ({ data: Float64Array.from(data), shape });

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** x [M, K] @ W^T, W [N, K], + b [N]. */
export function linear(x: Arr, w: Arr, b: Arr | null): Arr {
  const k = x.shape[x.shape.length - 1];
  const m = size(x.shape) / k;
  const n = w.shape[0];
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = b ? b.data[j] : 0;
      for (let t = 0; t < k; t++) s += x.data[i * k + t] * w.data[j * k + t];
      out[i * n + j] = s;
    }
  }
  return { data: out, shape: [...x.shape.slice(0, -1), n] };
}

export function embedding(ids: number[], w: Arr): Arr {
  const d = w.shape[1];
  const out = new Float64Array(ids.length * d);
  ids.forEach((id, i) => out.set(w.data.subarray(id * d, id * d + d), i * d));
  return { data: out, shape: [ids.length, d] };
}

function rows(x: Arr, fn: (row: Float64Array) => Float64Array): Arr {
  const d = x.shape[x.shape.length - 1];
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i += d) out.set(fn(x.data.subarray(i, i + d)), i);
  return { data: out, shape: [...x.shape] };
}

export function layerNorm(x: Arr, w: Arr, b: Arr, eps: number): Arr {
  return rows(x, (r) => {
    const mean = r.reduce((a, v) => a + v, 0) / r.length;
    const variance = r.reduce((a, v) => a + (v - mean) ** 2, 0) / r.length;
    return r.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * w.data[i] + b.data[i]);
  });
}

export function rmsNorm(x: Arr, w: Arr, eps: number): Arr {
  return rows(x, (r) => {
    const ms = r.reduce((a, v) => a + v * v, 0) / r.length;
    return r.map((v, i) => (v / Math.sqrt(ms + eps)) * w.data[i]);
  });
}

export function softmax(x: Arr): Arr {
  return rows(x, (r) => {
    const m = Math.max(...r);
    const e = r.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    return e.map((v) => v / s);
  });
}

/** erf by Abramowitz & Stegun 7.1.26 refined with one Newton-free series switch (|err| < 1e-7 is enough here). */
export function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

export const map = (x: Arr, fn: (v: number) => number): Arr => ({ data: x.data.map(fn), shape: [...x.shape] });
export const geluErf = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
export const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
export const silu = (v: number) => v / (1 + Math.exp(-v));

/** x [N, C, H, W], w [O, C, kh, kw], stride, padding (groups 1). */
export function conv2d(x: Arr, w: Arr, b: Arr | null, stride: number, pad: number): Arr {
  const [n, c, h, wd] = x.shape;
  const [o, , kh, kw] = w.shape;
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((wd + 2 * pad - kw) / stride) + 1;
  const out = new Float64Array(n * o * oh * ow);
  for (let b0 = 0; b0 < n; b0++) for (let oc = 0; oc < o; oc++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
    let s = b ? b.data[oc] : 0;
    for (let ic = 0; ic < c; ic++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const iy = y * stride - pad + i;
      const ix = xx * stride - pad + j;
      if (iy < 0 || ix < 0 || iy >= h || ix >= wd) continue;
      s += x.data[((b0 * c + ic) * h + iy) * wd + ix] * w.data[((oc * c + ic) * kh + i) * kw + j];
    }
    out[((b0 * o + oc) * oh + y) * ow + xx] = s;
  }
  return { data: out, shape: [n, o, oh, ow] };
}

export function batchNorm(x: Arr, w: Arr, b: Arr, mean: Arr, variance: Arr, eps: number): Arr {
  const [, c, h, wd] = x.shape;
  return { data: x.data.map((v, i) => {
    const ch = Math.floor(i / (h * wd)) % c;
    return ((v - mean.data[ch]) / Math.sqrt(variance.data[ch] + eps)) * w.data[ch] + b.data[ch];
  }), shape: [...x.shape] };
}

/** Max or average pooling; average counts padding (PyTorch's default). */
export function pool2d(x: Arr, kind: 'max' | 'avg', k: number, stride: number, pad: number): Arr {
  const [n, c, h, wd] = x.shape;
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((wd + 2 * pad - k) / stride) + 1;
  const out = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
    let acc = kind === 'max' ? -Infinity : 0;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const iy = y * stride - pad + i;
      const ix = xx * stride - pad + j;
      const inside = iy >= 0 && ix >= 0 && iy < h && ix < wd;
      const v = inside ? x.data[(p * h + iy) * wd + ix] : kind === 'max' ? -Infinity : 0;
      acc = kind === 'max' ? Math.max(acc, v) : acc + v;
    }
    out[(p * oh + y) * ow + xx] = kind === 'max' ? acc : acc / (k * k);
  }
  return { data: out, shape: [n, c, oh, ow] };
}

/** Rotates one head vector at a position (half-split RoPE). */
export function rope(v: Float64Array, pos: number, base: number): Float64Array {
  const d = v.length;
  const half = d / 2;
  const out = new Float64Array(d);
  for (let i = 0; i < half; i++) {
    const angle = pos / base ** ((2 * i) / d);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    out[i] = v[i] * c - v[i + half] * s;
    out[i + half] = v[i + half] * c + v[i] * s;
  }
  return out;
}

/**
 * Causal GQA attention for one batch row: q [T, H*d], k/v [T, Hkv*d] (new tokens), past k/v
 * [P, Hkv*d] already rotated; RoPE (if base) at positions P..P+T-1. Returns [T, H*d].
 */
export function attention(q: Float64Array, k: Float64Array, v: Float64Array, t: number, heads: number, kvHeads: number, d: number,
  options: { ropeBase?: number; pastK?: Float64Array; pastV?: Float64Array; past?: number; causal?: boolean } = {}): Float64Array {
  const p = options.past ?? 0;
  const s = p + t;
  const keyAt = (pos: number, h: number): Float64Array => {
    const src = pos < p ? options.pastK! : k;
    const row = pos < p ? pos : pos - p;
    const vec = src.slice(row * kvHeads * d + h * d, row * kvHeads * d + (h + 1) * d);
    return options.ropeBase && pos >= p ? rope(vec, pos, options.ropeBase) : vec;
  };
  const valueAt = (pos: number, h: number): Float64Array => {
    const src = pos < p ? options.pastV! : v;
    const row = pos < p ? pos : pos - p;
    return src.slice(row * kvHeads * d + h * d, row * kvHeads * d + (h + 1) * d);
  };
  const out = new Float64Array(t * heads * d);
  const group = heads / kvHeads;
  for (let h = 0; h < heads; h++) {
    const kvh = Math.floor(h / group);
    for (let i = 0; i < t; i++) {
      let qv: Float64Array = q.slice(i * heads * d + h * d, i * heads * d + (h + 1) * d);
      if (options.ropeBase) qv = rope(qv, p + i, options.ropeBase);
      const limit = options.causal === false ? s : p + i + 1;
      const scores: number[] = [];
      for (let j = 0; j < limit; j++) {
        const kv = keyAt(j, kvh);
        let dot = 0;
        for (let e = 0; e < d; e++) dot += qv[e] * kv[e];
        scores.push(dot / Math.sqrt(d));
      }
      const m = Math.max(...scores);
      const w = scores.map((x) => Math.exp(x - m));
      const z = w.reduce((a, b) => a + b, 0);
      for (let j = 0; j < limit; j++) {
        const vv = valueAt(j, kvh);
        for (let e = 0; e < d; e++) out[i * heads * d + h * d + e] += (w[j] / z) * vv[e];
      }
    }
  }
  return out;
}

/** Mean cross-entropy of logits [N, V] against labels. */
export function crossEntropy(logits: Arr, labels: number[]): number {
  const v = logits.shape[logits.shape.length - 1];
  let total = 0;
  labels.forEach((label, i) => {
    const row = logits.data.subarray(i * v, i * v + v);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    total += lse - row[label];
  });
  return total / labels.length;
}
