// The hover on a model line: the line's full breakdown (estimate and, after a run, measurement),
// and links to the model's timeline, Fit to Budget and Profile with Settings. None on a file
// edited since its profile (the figures' lines moved).
import * as vscode from 'vscode';
import { lineHoverMarkdown } from '../presentation/hover';
import { linesOfFile } from '../presentation/line-figures';
import type { EditTracker } from './edit-tracker';
import type { ProfileStore } from './profile-store';
import { currentSettings } from './settings';

const LINKS: ReadonlyArray<readonly [string, string]> = [
  ['Timeline', 'memlens.showTimeline'],
  ['Fix…', 'memlens.fitBudget'],
  ['Profile with…', 'memlens.profileWithSettings'],
];

/** Command links on the model the figures came from (a marshalled Uri argument, revived by VS Code). */
function commandLinks(model: vscode.Uri): string {
  const args = encodeURIComponent(JSON.stringify([model]));
  return LINKS.map(([title, command]) => `[${title}](command:${command}?${args})`).join(' · ');
}

export class LineHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly store: ProfileStore,
    private readonly edits: EditTracker,
  ) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    if (this.edits.isEdited(document.uri.fsPath)) return undefined;
    const found = this.store.forFile(document.uri);
    if (!found) return undefined;
    const figures = linesOfFile(found.profile, document.uri.fsPath).find((f) => f.line === position.line + 1);
    if (!figures) return undefined;
    const md = new vscode.MarkdownString(`${lineHoverMarkdown(found.profile, figures, currentSettings(document.uri).hideBelow)}\n\n${commandLinks(found.uri)}`);
    md.isTrusted = { enabledCommands: LINKS.map(([, command]) => command) };
    return new vscode.Hover(md, document.lineAt(position.line).range);
  }
}
