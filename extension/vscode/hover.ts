// The hover on a model line: the line's full breakdown (estimate and, after a run, measurement).
import * as vscode from 'vscode';
import { lineHoverMarkdown } from '../presentation/hover';
import { linesOfFile } from '../presentation/line-figures';
import type { ProfileStore } from './profile-store';

export class LineHoverProvider implements vscode.HoverProvider {
  constructor(private readonly store: ProfileStore) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const found = this.store.forFile(document.uri);
    if (!found) return undefined;
    const figures = linesOfFile(found.profile, document.uri.fsPath).find((f) => f.line === position.line + 1);
    if (!figures) return undefined;
    const md = new vscode.MarkdownString(lineHoverMarkdown(found.profile, figures));
    return new vscode.Hover(md, document.lineAt(position.line).range);
  }
}
