// Colours from the VS Code theme's CSS variables, read when drawing (and again when the theme changes).

const CATEGORY_VARS: Record<string, string> = {
  weights: '--vscode-charts-blue',
  activations: '--vscode-charts-orange',
  kvCache: '--vscode-charts-purple',
  gradients: '--vscode-charts-red',
  optimizerState: '--vscode-charts-yellow',
  optimizerStep: '--vscode-editorWarning-foreground',
  inputs: '--vscode-charts-green',
  outputs: '--vscode-terminal-ansiCyan',
  other: '--vscode-descriptionForeground',
};

const FALLBACK: Record<string, string> = {
  weights: '#3794ff', activations: '#d18616', kvCache: '#b180d7', gradients: '#f14c4c',
  optimizerState: '#cca700', optimizerStep: '#e2c08d', inputs: '#89d185', outputs: '#29b8db', other: '#888888',
};

export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function categoryColor(category: string): string {
  return cssVar(CATEGORY_VARS[category] ?? '--vscode-descriptionForeground', FALLBACK[category] ?? '#888888');
}

/** `#rrggbb` or `rgb(...)` with an alpha, for area fills. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color);
  if (hex) {
    const n = parseInt(hex[1], 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^)]+)\)$/.exec(color);
  if (rgb) {
    const [r, g, b] = rgb[1].split(',').map((s) => s.trim());
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return color;
}

export interface ThemeColors {
  foreground: string;
  muted: string;
  grid: string;
  peak: string;
  budget: string;
  measured: string;
  /** The curve from before the last fix. */
  before: string;
  phaseShade: string;
  /** The keyboard cursor, as VS Code draws focus. */
  focus: string;
  badgeBackground: string;
  badgeForeground: string;
}

export function themeColors(): ThemeColors {
  return {
    foreground: cssVar('--vscode-foreground', '#cccccc'),
    muted: cssVar('--vscode-descriptionForeground', '#999999'),
    grid: cssVar('--vscode-editorWidget-border', '#454545'),
    peak: cssVar('--vscode-editorError-foreground', '#f14c4c'),
    budget: cssVar('--vscode-editorWarning-foreground', '#cca700'),
    measured: cssVar('--vscode-charts-foreground', '#cccccc'),
    before: cssVar('--vscode-charts-lines', '#8a8a8a'),
    phaseShade: withAlpha(cssVar('--vscode-editor-foreground', '#cccccc'), 0.06),
    focus: cssVar('--vscode-focusBorder', '#007fd4'),
    badgeBackground: cssVar('--vscode-badge-background', '#4d4d4d'),
    badgeForeground: cssVar('--vscode-badge-foreground', '#ffffff'),
  };
}

/** Calls `redraw` when VS Code switches the theme (it changes the body's class). */
export function onThemeChange(redraw: () => void): void {
  new MutationObserver(redraw).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
