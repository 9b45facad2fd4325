// The timeline panel's controls are the `memlens.*` settings themselves: read from the extension
// manifest (the same schema the Settings UI renders), titled the way the Settings UI titles a
// key, and written back under the same keys. So the panel and the Settings UI can never disagree
// on a name, a value list or a range.
import type { PanelSettings, SettingControl, SettingField } from '../../webview/protocol';

/** The setting key (under `memlens.`) each panel field writes. */
export const FIELD_KEYS: Readonly<Record<SettingField, string>> = {
  mode: 'mode', batch: 'batch', seq: 'sequenceLength', dtype: 'dtype', optimizer: 'optimizer',
};

export const PANEL_FIELDS: readonly SettingField[] = ['mode', 'batch', 'seq', 'dtype', 'optimizer'];

export interface SettingSchema {
  field: SettingField;
  key: string;
  title: string;
  description: string;
  input: SettingControl['input'];
}

/** The title the Settings UI gives a key's last segment: `sequenceLength` -> `Sequence Length`. */
export function settingTitle(key: string): string {
  const last = key.slice(key.lastIndexOf('.') + 1);
  return last.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/^[a-z]/, (c) => c.toUpperCase());
}

/** A markdown setting description as plain text: `` `infer` `` -> infer, `#memlens.optimizer#` -> memlens.optimizer. */
export function plainDescription(markdown: string): string {
  return markdown.replace(/`#([\w.]+)#`/g, '$1').replace(/#([\w.]+)#/g, '$1').replace(/\*\*|`/g, '').trim();
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function schemaInput(key: string, p: Json): SettingControl['input'] {
  if (Array.isArray(p.enum)) {
    const descriptions = Array.isArray(p.enumDescriptions) ? p.enumDescriptions : [];
    return {
      kind: 'enum',
      options: p.enum.map((v, i) => ({ value: String(v), description: typeof descriptions[i] === 'string' ? descriptions[i] : null })),
    };
  }
  if (p.type === 'integer' && typeof p.minimum === 'number' && typeof p.maximum === 'number') {
    return { kind: 'integer', min: p.minimum, max: p.maximum };
  }
  throw new Error(`package.json: memlens.${key} must be an enum or an integer with a minimum and a maximum`);
}

/** The panel fields' settings from the manifest's `contributes.configuration`. */
export function settingSchemas(manifest: unknown): SettingSchema[] {
  const contributes = isObject(manifest) ? manifest.contributes : undefined;
  const configuration = isObject(contributes) ? contributes.configuration : undefined;
  const properties = isObject(configuration) ? configuration.properties : undefined;
  if (!isObject(properties)) throw new Error('package.json: no contributes.configuration.properties');
  return PANEL_FIELDS.map((field) => {
    const key = `memlens.${FIELD_KEYS[field]}`;
    const p = properties[key];
    if (!isObject(p)) throw new Error(`package.json: no setting ${key}`);
    const description = typeof p.markdownDescription === 'string' ? p.markdownDescription : typeof p.description === 'string' ? p.description : '';
    return { field, key, title: settingTitle(key), description: plainDescription(description), input: schemaInput(key, p) };
  });
}

/** Which size settings change the model's input dims (a fixed-shape model has none). */
export interface SettingUse {
  batch: boolean;
  sequence: boolean;
}

function hiddenBecause(field: SettingField, use: SettingUse): string | null {
  if (field === 'seq' && !use.sequence) return 'the model has no sequence dimension';
  if (field === 'batch' && !use.batch) return 'the model has no batch dimension (its input shapes are fixed)';
  return null;
}

/** The optimizer control shows only while the mode control says training (the webview decides, as the mode changes). */
export function settingControls(schemas: readonly SettingSchema[], settings: PanelSettings, use: SettingUse): SettingControl[] {
  return schemas.map((s) => ({ ...s, value: settings[s.field], hiddenBecause: hiddenBecause(s.field, use) }));
}
