// The TypeScript server plugin the extension contributes (package.json
// `contributes.typescriptServerPlugins`): in any workspace, `import * as nn from 'memlens/nn'`
// resolves to the typings shipped beside this file (dist/api/nn.d.ts), without touching the
// workspace. tsserver loads it from <extension>/node_modules/memlens-ts-plugin, a shim that
// requires this bundle (dist/ts-plugin.js).
import * as path from 'node:path';
import type * as TS from 'typescript';
import { resolveMemlensFrom } from './memlens-resolution';

function init(modules: { typescript: typeof TS }): TS.server.PluginModule {
  return {
    create(info) {
      const typings = path.join(__dirname, 'api', 'nn.d.ts');
      resolveMemlensFrom(modules.typescript, info.languageServiceHost, typings);
      info.project.projectService.logger.info(`memlens-ts-plugin: memlens/nn resolves to ${typings} when the project does not resolve it`);
      return info.languageService;
    },
  };
}

export = init;
