import { OWNER_TOKEN, parseTR005 } from './tr005';

export interface ClaimRow {
  readonly line: number;
  readonly devEUI: string;
  readonly ownerToken: string;
}

export interface ParsedClaims {
  readonly rows: readonly ClaimRow[];
  /** One sentence per bad line, naming it. */
  readonly errors: readonly string[];
}

/**
 * A bulk-claim CSV: a header, then one device per line, either `dev_eui,owner_token` (any
 * column order, other columns ignored) or a `qr` column with each label's TR005 payload.
 * Values are hex and upper-case letters, so no quoting is needed; quotes around a value are
 * dropped.
 */
export function parseClaimCSV(text: string): ParsedClaims {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => unquote(h).toLowerCase());
  const devCol = header.indexOf('dev_eui');
  const tokenCol = header.indexOf('owner_token');
  const qrCol = header.indexOf('qr');
  if (qrCol < 0 && (devCol < 0 || tokenCol < 0)) return { rows: [], errors: ['The first line must name the columns: dev_eui,owner_token (or qr).'] };
  const rows: ClaimRow[] = [];
  const errors: string[] = [];
  lines.slice(1).forEach((raw, i) => {
    const line = i + 2;
    if (raw.trim() === '') return;
    const cells = raw.split(',').map(unquote);
    if (qrCol >= 0 && cells[qrCol]) {
      const qr = parseTR005(cells[qrCol]!);
      if (typeof qr === 'string') return void errors.push(`Line ${line}: ${qr}`);
      if (!qr.ownerToken) return void errors.push(`Line ${line}: the QR code has no owner token.`);
      return void rows.push({ line, devEUI: qr.devEUI, ownerToken: qr.ownerToken });
    }
    const devEUI = (cells[devCol] ?? '').replace(/^0x/i, '').toUpperCase();
    const ownerToken = (cells[tokenCol] ?? '').toUpperCase();
    if (!/^[0-9A-F]{16}$/.test(devEUI)) return void errors.push(`Line ${line}: dev_eui is not 16 hex digits.`);
    if (!OWNER_TOKEN.test(ownerToken)) return void errors.push(`Line ${line}: owner_token is not 1-32 letters and digits.`);
    rows.push({ line, devEUI, ownerToken });
  });
  return { rows, errors };
}

function unquote(cell: string): string {
  return cell
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();
}
