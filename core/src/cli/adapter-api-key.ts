import { promises as fs } from 'node:fs';

/** The API key from --api-key-file (preferred: it stays out of shell history and ps) or --api-key. */
export async function apiKeyFromFlags(flags: { readonly apiKey?: string; readonly apiKeyFile?: string }): Promise<string | undefined> {
  if (flags.apiKey !== undefined && flags.apiKeyFile !== undefined) throw new Error('--api-key and --api-key-file: give one');
  if (flags.apiKeyFile !== undefined) {
    const key = (await fs.readFile(flags.apiKeyFile, 'utf8')).trim();
    if (key === '') throw new Error(`--api-key-file: ${flags.apiKeyFile} is empty`);
    return key;
  }
  return flags.apiKey;
}
