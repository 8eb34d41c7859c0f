/**
 * Runs the add-on's s6 services the way the image does, but under Debian's s6 package instead of s6-overlay:
 * every longrun listed in rootfs/etc/s6-overlay/s6-rc.d/user/contents.d gets a service directory in a temporary
 * scan directory, whose run/finish execute the repository's own run/finish files with `sh` (their shebang,
 * /command/with-contenv, exists only in the image). The differences s6-overlay would otherwise hide are passed
 * as the ADDON_* variables those scripts read: where run.sh and the app live, the halt command (here: stop this
 * s6-svscan) and the directory holding the container's exit code.
 */
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './manifest';

export interface ServiceOptions {
  /** DATA_DIR of the add-on: options.json is read there and the database lives there. */
  dataDir: string;
  port: number;
  /** Address the server binds; the image uses 0.0.0.0. */
  host?: string;
  /** Repository holding rootfs/, run.sh and dist/ (default: this one). */
  root?: string;
  /** Extra environment (e.g. SUPERVISOR_TOKEN, SUPERVISOR_URL). */
  env?: Record<string, string>;
  /** Called with every chunk the services write to stdout or stderr (the add-on log). */
  onOutput?: (chunk: string) => void;
  /** Where the scan directory is created; default a new temporary directory, removed by stop(). */
  workDir?: string;
}

export interface ContainerExit {
  /** What the container would exit with: the code finish recorded, 0 if none. */
  exitCode: number;
}

export interface RunningAddon {
  readonly workDir: string;
  readonly scanDir: string;
  readonly services: string[];
  /** PID of a service's process (the Node server for oauth-server), undefined while it is down. */
  servicePid(service?: string): number | undefined;
  /** Everything the services wrote so far. */
  output(): string;
  /** Resolves when the supervision tree is gone: halted by finish, or stopped. */
  readonly exited: Promise<ContainerExit>;
  /** Stops like `docker stop`: services get SIGTERM, then the tree exits. */
  stop(timeoutMs?: number): Promise<ContainerExit>;
}

const S6_RC = path.join('rootfs', 'etc', 's6-overlay', 's6-rc.d');
const OUTPUT_LIMIT = 1 << 20;

function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The longruns s6-overlay would start: the `user` bundle's contents. */
export function userServices(root = REPO_ROOT): string[] {
  const contents = path.join(root, S6_RC, 'user', 'contents.d');
  return readdirSync(contents).map((name) => {
    const typeFile = path.join(root, S6_RC, name, 'type');
    const type = existsSync(typeFile) ? readFileSync(typeFile, 'utf8').trim() : '(missing)';
    if (type !== 'longrun') {
      throw new Error(`${path.join(S6_RC, name)}: type is ${type}; the stand-in runs longrun services only`);
    }
    if (!existsSync(path.join(root, S6_RC, name, 'run'))) throw new Error(`${path.join(S6_RC, name, 'run')}: missing`);
    return name;
  });
}

function requireTool(tool: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error(`${tool} not found: install Debian's s6 package (apt-get install s6) to run the add-on without Docker`);
  }
}

export function startAddon(opts: ServiceOptions): RunningAddon {
  const root = opts.root ?? REPO_ROOT;
  requireTool('s6-svscan');
  const main = path.join(root, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first`);
  const services = userServices(root);

  const ownWorkDir = opts.workDir === undefined;
  const workDir = opts.workDir ?? mkdtempSync(path.join(os.tmpdir(), 'addon-s6-'));
  const scanDir = path.join(workDir, 'scan');
  const resultsDir = path.join(workDir, 'results');
  const halt = path.join(workDir, 'halt');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'exitcode'), '0\n');
  // s6-overlay's halt stops the whole container; here the container is this s6-svscan.
  writeFileSync(halt, `#!/bin/sh\nexec s6-svscanctl -t ${shQuote(scanDir)}\n`, { mode: 0o755 });

  for (const name of services) {
    const dir = path.join(scanDir, name);
    mkdirSync(dir, { recursive: true });
    for (const script of ['run', 'finish']) {
      const source = path.join(root, S6_RC, name, script);
      if (!existsSync(source)) continue;
      writeFileSync(path.join(dir, script), `#!/bin/sh\nexec sh ${shQuote(source)} "$@"\n`, { mode: 0o755 });
    }
  }

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    DATA_DIR: path.resolve(opts.dataDir),
    PORT: String(opts.port),
    HOST: opts.host ?? '0.0.0.0',
    ADDON_RUN_SH: path.join(root, 'run.sh'),
    ADDON_APP_DIR: root,
    ADDON_BACKUP_BIN: path.join(root, 'rootfs', 'usr', 'local', 'bin', 'oauth-backup'),
    ADDON_HALT: halt,
    ADDON_RESULTS_DIR: resultsDir,
    ADDON_CRASH_LOG: path.join(resultsDir, 'crashes'),
  };
  // Jest or a debugger in this process must not leak into the server it starts.
  delete env.NODE_OPTIONS;

  // Own process group, so a terminal's Ctrl-C reaches only the caller, which then stops the tree in order.
  const svscan: ChildProcess = spawn('s6-svscan', [scanDir], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-OUTPUT_LIMIT);
    opts.onOutput?.(text);
  };
  svscan.stdout?.on('data', collect);
  svscan.stderr?.on('data', collect);

  const readExitCode = (): number => {
    const code = Number.parseInt(readFileSync(path.join(resultsDir, 'exitcode'), 'utf8').trim(), 10);
    return Number.isNaN(code) ? 0 : code;
  };
  const exited = new Promise<ContainerExit>((resolve, reject) => {
    svscan.once('error', reject);
    svscan.once('close', () => resolve({ exitCode: readExitCode() }));
  });
  let done = false;
  void exited.then(
    () => (done = true),
    () => (done = true),
  );

  const servicePid = (service: string | undefined = services[0]): number | undefined => {
    if (service === undefined) return undefined;
    const status = spawnSync('s6-svstat', ['-o', 'pid', path.join(scanDir, service)], { encoding: 'utf8' });
    const pid = Number.parseInt(status.stdout.trim(), 10);
    return status.status === 0 && pid > 0 ? pid : undefined;
  };

  const stop = async (timeoutMs = 10_000): Promise<ContainerExit> => {
    if (!done) {
      spawnSync('s6-svscanctl', ['-t', scanDir]);
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        // Like Docker after its stop timeout: kill what is left. Services run in their own sessions.
        for (const name of services) {
          const pid = servicePid(name);
          if (pid) process.kill(pid, 'SIGKILL');
        }
        if (svscan.pid) process.kill(-svscan.pid, 'SIGKILL');
      }
    }
    const result = await exited;
    if (ownWorkDir) rmSync(workDir, { recursive: true, force: true });
    return result;
  };

  return { workDir, scanDir, services, servicePid, output: () => output, exited, stop };
}
