/**
 * The X.509 toolkit, ready to use: `@peculiar/x509` backed by node's WebCrypto.
 *
 * `@peculiar/x509` resolves its algorithm providers through tsyringe, which needs the Reflect
 * metadata API at load time; `reflect-metadata` supplies it and must be loaded first, which is
 * why every module of Joinery imports the library from here and never directly.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509, webcrypto };

/** ECDSA over P-256 with SHA-256: the only algorithm Joinery's CA uses. */
export const EC_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const EC_SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
