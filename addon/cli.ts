/**
 * `npm run addon -- [--options FILE] [--data DIR] [--port N] [--host ADDR] [--secrets FILE]`
 *
 * Runs the add-on without Home Assistant or Docker: writes DATA_DIR/options.json as the Supervisor would
 * (config.yaml's defaults + the options FILE, validated by config.yaml's schema), then supervises the rootfs
 * service under Debian's s6-svscan with the same run/finish scripts and run.sh the image ships. Ctrl-C stops it
 * like `docker stop`; the exit code is the container's.
 */
import { parseArgs } from 'node:util';
import { loadManifest, manifestProblems } from './manifest';
import { readUserOptions, renderOptions, writeOptionsFile } from './render-options';
import { startAddon } from './supervise';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      options: { type: 'string' },
      secrets: { type: 'string' },
      data: { type: 'string', default: 'data' },
      port: { type: 'string', default: '8096' },
      host: { type: 'string', default: '0.0.0.0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run addon -- [--options FILE] [--data DIR] [--port N] [--host ADDR] [--secrets FILE]');
    return 0;
  }

  const manifest = loadManifest();
  const problems = manifestProblems(manifest);
  if (problems.length > 0) {
    console.error(`config.yaml would be rejected by the Supervisor:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    return 1;
  }

  const userOptions = values.options ? readUserOptions(values.options) : {};
  const secrets = values.secrets ? readUserOptions(values.secrets) : undefined;
  const { options, warnings } = renderOptions({ manifest, userOptions, secrets });
  warnings.forEach((w) => console.warn(`[supervisor] ${w}`));
  const file = writeOptionsFile(values.data, options);
  console.log(`[supervisor] wrote ${file}; starting ${manifest.name} ${manifest.version} on ${values.host}:${values.port}`);

  const addon = startAddon({
    dataDir: values.data,
    port: Number(values.port),
    host: values.host,
    onOutput: (chunk) => process.stdout.write(chunk),
  });
  const stop = (): void => {
    console.log('[supervisor] stopping the add-on');
    void addon.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const { exitCode } = await addon.exited;
  await addon.stop();
  console.log(`[supervisor] the add-on stopped (container exit code ${exitCode})`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
