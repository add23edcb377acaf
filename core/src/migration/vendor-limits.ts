// The store's import path until its split lands; then it imports from ../fleet-migration/ and this file goes.
export * from '../fleet-migration/vendor-limits';
