#!/usr/bin/env node
// `prepack` of each published package (core, cli): runs in the package directory before
// `pnpm pack` or `pnpm publish` write the tarball.
//
// 1. Only pnpm may pack: it rewrites `workspace:*` dependencies to the real version in the
//    tarball's package.json; npm pack copies them verbatim, and `npm install` of such a
//    tarball fails (EUNSUPPORTEDPROTOCOL). So npm pack / npm publish stop here, saying why.
// 2. Build (tsc -b is incremental: nothing to do when dist is current), so a tarball never
//    carries a missing or stale dist; then make the bin files executable.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chmodBins } from './chmod-bins.mjs';

const agent = process.env.npm_config_user_agent ?? '';
if (!agent.startsWith('pnpm/')) {
  console.error(
    `prepack: pack and publish with pnpm (npx -y pnpm@10 pack), not ${agent.split(' ')[0] || 'this tool'}: ` +
      'only pnpm replaces the workspace:* dependencies with real versions',
  );
  process.exit(1);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(root).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-b', process.cwd()], { stdio: 'inherit' });
chmodBins(process.cwd());
