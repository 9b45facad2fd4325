// A real VS Code (code-server: VS Code's server, web workbench and extension host) on a free
// 127.0.0.1 port, with a fresh user-data-dir and extensions-dir in a temporary folder.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';
import { assertE2eToolsInstalled, codeServerEntry } from './paths';
import { ManagedProcess, runToCompletion } from './processes';
import { GiveUpWaiting, waitUntil } from './wait';

/**
 * User settings every session starts from: no welcome page, tips, telemetry or update checks, and
 * workspace trust off so tests that are not about trust see a trusted workspace. Pass
 * `settings: { 'security.workspace.trust.enabled': true }` for tests about trust.
 */
export const baseUserSettings: Readonly<Record<string, unknown>> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
};

export interface CodeServerOptions {
  /** The folder the workbench opens. */
  readonly workspace: string;
  /** Merged over baseUserSettings into User/settings.json. */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** VSIX files installed with `code-server --install-extension` before the server starts. */
  readonly extensions?: readonly string[];
  /** Where code-server's log is written (a folder under test-artifacts/). */
  readonly logDir: string;
  readonly startTimeoutMs?: number;
}

export interface CodeServer {
  readonly url: string;
  readonly port: number;
  readonly workspace: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly logFile: string;
  readonly process: ManagedProcess;
  /** Stops the server and everything it started, and removes its temporary folders. */
  stop(): Promise<void>;
}

function isolatedEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Variables a surrounding VS Code terminal sets would point the CLI at that other instance.
  for (const key of Object.keys(env)) {
    if (key.startsWith('VSCODE_') || key === 'PASSWORD' || key === 'HASHED_PASSWORD' || key === 'PORT') delete env[key];
  }
  // code-server writes config.yaml and state under XDG folders: keep them inside the temp dir.
  env.XDG_CONFIG_HOME = path.join(home, 'config');
  env.XDG_DATA_HOME = path.join(home, 'data');
  env.XDG_CACHE_HOME = path.join(home, 'cache');
  return env;
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within 2 s`)));
    request.on('error', reject);
  });
}

/** Installs a VSIX into an extensions dir; throws with code-server's output unless it reports success. */
export async function installExtension(
  vsix: string,
  dirs: { readonly userDataDir: string; readonly extensionsDir: string; readonly logDir: string; readonly env?: NodeJS.ProcessEnv },
): Promise<void> {
  if (!fs.existsSync(vsix)) throw new Error(`e2e harness: VSIX not found: ${vsix}`);
  const output = await runToCompletion(
    `code-server --install-extension ${path.basename(vsix)}`,
    process.execPath,
    [codeServerEntry, '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir, '--force', '--install-extension', vsix],
    { env: dirs.env, logFile: path.join(dirs.logDir, 'install-extension.log'), timeoutMs: 120_000 },
  );
  if (!/successfully installed/i.test(output)) {
    throw new Error(`e2e harness: installing ${vsix} did not report success:\n${output}`);
  }
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  assertE2eToolsInstalled();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'memlens-e2e-'));
  const userDataDir = path.join(home, 'user-data');
  const extensionsDir = path.join(home, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...baseUserSettings, ...options.settings }, null, 2),
  );
  fs.mkdirSync(options.logDir, { recursive: true });
  const env = isolatedEnv(home);
  const removeHome = (): void => fs.rmSync(home, { recursive: true, force: true });

  try {
    for (const vsix of options.extensions ?? []) {
      await installExtension(vsix, { userDataDir, extensionsDir, logDir: options.logDir, env });
    }
  } catch (error) {
    removeHome();
    throw error;
  }

  const port = await freePort();
  const logFile = path.join(options.logDir, 'code-server.log');
  fs.writeFileSync(logFile, '');
  const proc = ManagedProcess.start(
    'code-server',
    process.execPath,
    [
      codeServerEntry,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-getting-started-override',
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      options.workspace,
    ],
    { cwd: options.workspace, env, logFile },
  );
  const url = `http://127.0.0.1:${port}/`;
  const stop = async (): Promise<void> => {
    try {
      await proc.stop();
    } finally {
      removeHome();
    }
  };

  try {
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    await waitUntil(`code-server to serve ${url}healthz`, timeoutMs, async () => {
      if (proc.hasExited()) {
        throw new GiveUpWaiting('code-server exited before serving');
      }
      return (await httpStatus(`${url}healthz`)) === 200;
    });
  } catch (error) {
    await stop();
    throw new Error(`e2e harness: ${(error as Error).message}\n--- code-server output (${logFile}) ---\n${proc.output()}`);
  }

  return { url, port, workspace: options.workspace, userDataDir, extensionsDir, logFile, process: proc, stop };
}
