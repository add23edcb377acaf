import { promises as fs } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Command } from 'commander';
import { ParseError } from '../lorawan/parse-error';
import { authorizationDigest } from '../backend-interfaces/caller';
import type { PeerSettings } from '../peers/peer-settings';

export interface PeerSettingsFlags {
  readonly asyncAnswerUrl?: string;
  readonly asyncAnswerCa?: string;
  /** `ns set` / `as set` only: back to synchronous answers. */
  readonly sync?: boolean;
  readonly authorizationHeader?: string;
  /** `ns set` / `as set` only (commander's --no-authorization). */
  readonly authorization?: boolean;
}

/** The flags that set how a peer is talked to (`ns add`, `as add`, `ns set`, `as set`). */
export function withPeerSettingsOptions(cmd: Command, forUpdate: boolean): Command {
  cmd
    .option('--async-answer-url <url>', "asynchronous mode: acknowledge requests at once and POST the answers to this https URL (the peer's own BI listener)")
    .option('--async-answer-ca <file>', 'PEM CA that verifies the certificate of the async answer URL (default: the system CAs)')
    .option('--authorization-header <value>', 'the exact Authorization header value the peer sends (e.g. "Bearer ..."): then required on every request, and enough on /bi/<name> without a client certificate');
  if (forUpdate) {
    cmd.option('--sync', 'back to synchronous answers (no async answer URL)').option('--no-authorization', 'remove the Authorization header secret');
  }
  return cmd;
}

/** Applies the flags to `base`; only what a flag names changes. */
export async function peerSettingsFrom(flags: PeerSettingsFlags, base: PeerSettings): Promise<PeerSettings> {
  let asyncAnswers = base.asyncAnswers;
  if (flags.sync && flags.asyncAnswerUrl !== undefined) throw new ParseError('--sync', 'cannot be combined with --async-answer-url');
  if (flags.sync) asyncAnswers = null;
  if (flags.asyncAnswerUrl !== undefined) {
    let u: URL;
    try {
      u = new URL(flags.asyncAnswerUrl);
    } catch {
      throw new ParseError('--async-answer-url', `not a URL: "${flags.asyncAnswerUrl}"`);
    }
    if (u.protocol !== 'https:') throw new ParseError('--async-answer-url', 'answers go over mutual TLS: expected an https:// URL');
    asyncAnswers = { url: u.href, caPem: asyncAnswers?.caPem ?? null };
  }
  if (flags.asyncAnswerCa !== undefined) {
    if (!asyncAnswers) throw new ParseError('--async-answer-ca', 'needs an async answer URL (--async-answer-url)');
    let pem: string;
    try {
      pem = await fs.readFile(flags.asyncAnswerCa, 'utf8');
      new X509Certificate(pem);
    } catch {
      throw new ParseError('--async-answer-ca', `${flags.asyncAnswerCa} is not a readable PEM certificate`);
    }
    asyncAnswers = { ...asyncAnswers, caPem: pem };
  }
  let authorizationSHA256 = base.authorizationSHA256;
  if (flags.authorization === false) authorizationSHA256 = null;
  if (flags.authorizationHeader !== undefined) {
    if (flags.authorization === false) throw new ParseError('--no-authorization', 'cannot be combined with --authorization-header');
    if (flags.authorizationHeader.trim().length < 16) {
      throw new ParseError('--authorization-header', 'too short to be a secret: use at least 16 characters (e.g. "Bearer " and a random token)');
    }
    authorizationSHA256 = authorizationDigest(flags.authorizationHeader);
  }
  return { ...base, asyncAnswers, authorizationSHA256 };
}

/** How the CLI shows settings: never the secret, only whether there is one. */
export function describePeerSettings(s: PeerSettings): string[] {
  return [
    `answers: ${s.asyncAnswers ? `asynchronous, to ${s.asyncAnswers.url}${s.asyncAnswers.caPem ? ' (own CA)' : ''}` : 'synchronous'}`,
    `Authorization header: ${s.authorizationSHA256 ? 'required (secret set)' : 'not used'}`,
    ...(s.adapter
      ? [
          `management API: ${s.adapter.apiUrl} (${
            Object.entries(s.adapter.options)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ') || 'no options'
          }; API key kept in the data dir)`,
        ]
      : []),
  ];
}
