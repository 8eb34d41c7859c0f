/**
 * DATA_DIR/options.json as the Supervisor writes it on every start of the add-on: config.yaml's defaults with
 * the user's options laid over them, validated and coerced by config.yaml's schema. What the Supervisor would
 * refuse is refused here too, with its reason, and then nothing is written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AddonManifest, loadManifest, loadYaml } from './manifest';
import { AddonOptionsError, ValidatedOptions, mergeOptions, validateAddonOptions } from './supervisor-options';

export interface RenderInput {
  /** The user's options (the Configuration tab); none means the defaults alone. */
  userOptions?: Record<string, unknown>;
  /** Values for `!secret name`. */
  secrets?: Record<string, unknown>;
  manifest?: AddonManifest;
}

export function renderOptions(input: RenderInput = {}): ValidatedOptions {
  const manifest = input.manifest ?? loadManifest();
  const merged = mergeOptions(manifest.options ?? {}, input.userOptions ?? {});
  try {
    return validateAddonOptions(manifest.schema, merged, {
      name: manifest.name,
      slug: manifest.slug,
      secrets: input.secrets,
    });
  } catch (err) {
    if (err instanceof AddonOptionsError) {
      throw new AddonOptionsError(`Add-on ${manifest.slug} has invalid options: ${err.message}`);
    }
    throw err;
  }
}

/** Writes options.json readable by its owner only: it holds client secrets and passwords. */
export function writeOptionsFile(dataDir: string, options: Record<string, unknown>): string {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'options.json');
  writeFileSync(file, `${JSON.stringify(options, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** A user options file: YAML, as typed in the Configuration tab's YAML mode, or JSON. */
export function readUserOptions(file: string): Record<string, unknown> {
  const value = loadYaml<unknown>(file);
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AddonOptionsError(`${file}: must hold a mapping of option names to values`);
  }
  return value as Record<string, unknown>;
}
