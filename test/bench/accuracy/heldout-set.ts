// The held-out set: every .onnx in .cache/heldout/models with its onnx-facts sidecar, made by
// scripts/heldout/fetch-npm-models.mjs (models shipped in npm packages) and
// scripts/heldout/export-heldout.py (torchvision and torch.nn exports). No unit test reads it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnalysisSettings } from '../../../extension/engine/settings';
import { withDefaults } from '../../../extension/engine/settings';
import { repoRoot } from '../../fixtures/repo-root';

export const heldoutDir = path.join(repoRoot, '.cache', 'heldout', 'models');

interface TensorBytes {
  initializerTensors: number;
  initializerBytes: number;
  constantTensors: number;
  constantBytes: number;
}

/** Facts the onnx package computed (scripts/heldout/export-heldout.py). */
export interface HeldoutFacts {
  schema: 'memlens.heldout/1';
  name: string;
  origin: 'npm' | 'torch export';
  builder: string | null;
  source: string;
  factsKey: string;
  onnx: {
    main: TensorBytes;
    /** Every If/Loop/Scan body, recursively. */
    subgraphs: TensorBytes;
    subgraphCount: number;
    nodes: number;
    opTypes: Record<string, number>;
    fileBytes: number;
  };
}

export interface HeldoutModel {
  name: string;
  file: string;
  facts: HeldoutFacts;
  settings: AnalysisSettings;
}

/**
 * Settings per model where the defaults (batch 1, seq 128) do not describe a real call: the
 * silero detectors take 512-sample windows at a sample rate `sr` of 16 kHz (their If picks the
 * 16 kHz or the 8 kHz network from it), the mel front end one second of audio. Unnamed input
 * dims are set by input and axis.
 */
const SILERO_16K = { sr: 16000 };
const SETTINGS: Record<string, Partial<AnalysisSettings>> = {
  silero_vad_v4: { seq: 512, inputValues: SILERO_16K },
  silero_vad_v5: { dims: { 'input:0': 1, 'input:1': 512, 'state:1': 1 }, inputValues: SILERO_16K },
  silero_vad_v6: { dims: { 'input:0': 1, 'input:1': 512, 'state:1': 1 }, inputValues: SILERO_16K },
  silero_vad_16k_op15: { seq: 512, inputValues: SILERO_16K },
  silero_vad_half: { seq: 512 },
  silero_vad_op18_ifless: { seq: 512, inputValues: SILERO_16K },
  oww_melspectrogram: { dims: { samples: 16000 } },
};

/** Reference weight bytes: every initializer and Constant tensor, in the main graph and every body. */
export function referenceWeightBytes(facts: HeldoutFacts): number {
  const { main, subgraphs } = facts.onnx;
  return main.initializerBytes + main.constantBytes + subgraphs.initializerBytes + subgraphs.constantBytes;
}

export function heldoutModels(only?: readonly string[]): HeldoutModel[] {
  if (!fs.existsSync(heldoutDir)) return [];
  const names = fs.readdirSync(heldoutDir).filter((f) => f.endsWith('.onnx')).map((f) => f.slice(0, -'.onnx'.length)).sort();
  return names
    .filter((name) => !only || only.length === 0 || only.includes(name))
    .flatMap((name) => {
      const sidecar = path.join(heldoutDir, `${name}.json`);
      if (!fs.existsSync(sidecar)) return [];
      const facts = JSON.parse(fs.readFileSync(sidecar, 'utf8')) as HeldoutFacts;
      return [{ name, file: path.join(heldoutDir, `${name}.onnx`), facts, settings: withDefaults({ batch: 1, ...(SETTINGS[name] ?? {}) }) }];
    });
}
