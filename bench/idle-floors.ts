/**
 * The floors under the idle-RSS target, read the way ours is (1 s after healthy) with the server's node flags
 * (run.sh's): plain Node with an HTTP listener, and the bare-Express ceiling's app bundled into one file as
 * `npm run build` bundles the server (it otherwise runs from node_modules, which costs more to load).
 */
import path from 'node:path';
import { buildSync } from 'esbuild';
import { Memory, memory, spawnUntilHealthy } from './proc';
import { BARE_EXPRESS, SETTINGS, sleep } from './settings';

export interface IdleFloors {
  node: Memory;
  express: Memory;
}

const BARE_NODE = path.join(__dirname, 'bare-node.js');
const EXPRESS_BUNDLE = path.join(__dirname, 'bare-express.bundle.js');

async function idleOf(script: string): Promise<Memory> {
  const s = await spawnUntilHealthy({ args: [...SETTINGS.nodeFlags, script], env: {} });
  try {
    await sleep(1000);
    return memory(s.pid);
  } finally {
    await s.stop();
  }
}

export async function idleFloors(): Promise<IdleFloors> {
  // The options of package.json's build script.
  buildSync({
    entryPoints: [BARE_EXPRESS],
    bundle: true,
    platform: 'node',
    target: 'node24',
    minifyWhitespace: true,
    outfile: EXPRESS_BUNDLE,
    logLevel: 'warning',
  });
  return { node: await idleOf(BARE_NODE), express: await idleOf(EXPRESS_BUNDLE) };
}
