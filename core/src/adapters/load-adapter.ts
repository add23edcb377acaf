import type { AdapterModule } from './network-server-adapter';

/** The adapter package of a vendor is not installed (or is not an adapter). */
export class AdapterNotInstalledError extends Error {
  override readonly name = 'AdapterNotInstalledError';
  constructor(
    readonly vendor: string,
    readonly packageName: string,
    reason: string,
  ) {
    super(`no network server adapter for "${vendor}": ${reason} (install it with: npm install ${packageName})`);
  }
}

export function adapterPackageName(vendor: string): string {
  return `@joinery/adapter-${vendor}`;
}

/**
 * Loads the adapter of `vendor` at run time, from the package `@joinery/adapter-<vendor>`. Core
 * never imports an adapter statically: adapters depend on core, not the other way round.
 * `resolveFrom` is where module resolution starts (default: this module).
 */
export function loadAdapter(vendor: string, resolveFrom?: string): AdapterModule {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(vendor)) throw new AdapterNotInstalledError(vendor, adapterPackageName(vendor), 'not a vendor id');
  const packageName = adapterPackageName(vendor);
  let resolved: string;
  try {
    resolved = require.resolve(packageName, resolveFrom ? { paths: [resolveFrom] } : undefined);
  } catch {
    throw new AdapterNotInstalledError(vendor, packageName, `package ${packageName} is not installed`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(resolved) as { adapterModule?: AdapterModule };
  const m = loaded.adapterModule;
  if (!m || typeof m.createAdapter !== 'function' || typeof m.renderSetup !== 'function') {
    throw new AdapterNotInstalledError(vendor, packageName, `${packageName} does not export an adapterModule`);
  }
  if (m.vendor !== vendor) throw new AdapterNotInstalledError(vendor, packageName, `${packageName} is the adapter of "${m.vendor}"`);
  return m;
}
