import { promises as fs, constants as fsConstants } from 'node:fs';
import { AES128Key } from '../lorawan/aes128-key';
import { ParseError } from '../lorawan/parse-error';

/**
 * Reads a transport KEK: the AES-128 key a manufacturer wraps devices' root keys under (RFC
 * 3394) for `joinery devices import --transport-kek-file`. The file holds the key as 32 hex
 * digits, or a JSON object with a `kek` field (the shape of a credential bundle's kek.json).
 * Like the master key it must be private: a file that group or others may access is refused.
 * Messages never repeat the file's content.
 */
export async function readTransportKEK(file: string): Promise<AES128Key> {
  const field = '--transport-kek-file';
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY);
  } catch (err) {
    throw new ParseError(field, `cannot open ${file} (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
  let text: string;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ParseError(field, `${file} is not a regular file`);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new ParseError(field, `${file} has mode ${mode}, so group or others can access it; refusing to use it. Restrict it with: chmod 600 ${file}`);
    }
    text = await handle.readFile({ encoding: 'utf8' });
  } finally {
    await handle.close();
  }
  let hex = text.trim();
  if (hex.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(hex);
    } catch {
      throw new ParseError(field, `${file} starts like JSON but is not valid JSON`);
    }
    const kek = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['kek'] : undefined;
    if (typeof kek !== 'string') throw new ParseError(field, `${file}: expected a "kek" field with 32 hex digits`);
    hex = kek.trim();
  }
  if (hex.startsWith('0x') || hex.startsWith('0X')) hex = hex.slice(2);
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) {
    const what = /^[0-9a-fA-F]*$/.test(hex) ? `${hex.length} hex digits` : 'characters that are not hex digits';
    throw new ParseError(field, `${file}: expected an AES-128 key of exactly 32 hex digits, found ${what}`);
  }
  return AES128Key.fromHex(hex, 'transport KEK');
}
