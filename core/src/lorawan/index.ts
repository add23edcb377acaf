/** LoRaWAN wire types and pure crypto: no I/O. */
export * from './aes';
export * from './aes128-key';
export * from './cmac';
export * from './derivation';
export * from './frame-error';
export * from './hex';
export * from './identifiers';
export * from './join-accept';
export * from './join-request';
export * from './key-wrap';
export * from './mac-version';
export * from './mhdr';
export * from './nonces';
export * from './parse-error';
export * from './rejoin-request';
export * from './redacted-secret';
export * from './join-eui-prefix';
