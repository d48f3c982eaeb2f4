import { execa } from 'execa';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the built workspace (npx -y pnpm@10 run build)', () => {
  it('leaves each bin executable with its shebang, so ./packages/cli/dist/main.js runs by itself', async () => {
    for (const name of ['cli', 'stress']) {
      const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')) as { bin: Record<string, string> };
      for (const bin of Object.values(manifest.bin)) {
        const path = join(ROOT, 'packages', name, bin);
        expect(statSync(path).mode & 0o777, `${path}: run npx -y pnpm@10 run build`).toBe(0o755);
        expect(readFileSync(path, 'utf8').split('\n')[0], path).toBe('#!/usr/bin/env node');
      }
    }
    const version = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).version as string;
    const direct = await execa(join(ROOT, 'packages/cli/dist/main.js'), ['--version']);
    expect(direct.stdout).toBe(version);
  });

  it('npm pack is refused in a published package: it would ship workspace:* ranges that npm install rejects', async () => {
    const result = await execa('npm', ['pack', '--dry-run'], {
      cwd: join(ROOT, 'packages/cli'),
      reject: false,
      all: true,
      // As if typed in a shell, not inherited from the `pnpm test` running this file.
      env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key))),
      extendEnv: false,
    });
    expect(result.exitCode, result.all).not.toBe(0);
    expect(result.all).toContain('prepack: pack and publish with pnpm (npx -y pnpm@10 pack), not npm/');
  });
});
