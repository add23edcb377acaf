import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SqliteStore } from '../../../core/src/store/sqlite/sqlite-store';
import { makeTempDir } from '../support/joinery-cli';
import { describeStoreConformance } from './store-conformance';

/** The store conformance suite on SQLite, run twice on one database file. */
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await makeTempDir('store-sqlite');
  file = path.join(dir, 'data', 'joinery.db');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const open = async (): Promise<SqliteStore> => SqliteStore.open(file);
describeStoreConformance('sqlite (first run)', open);
describeStoreConformance('sqlite (second run, same database)', open);
