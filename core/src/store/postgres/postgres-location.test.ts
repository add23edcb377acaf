import * as os from 'node:os';
import { ParseError } from '../../lorawan/parse-error';
import { DEFAULT_POOL_SIZE, parsePostgresLocation } from './postgres-location';

describe('parsePostgresLocation', () => {
  test('location/user, host, port, database; Joinery parameters taken out, the schema as search_path', () => {
    const l = parsePostgresLocation('postgres://joinery:pw@db.example:5433/js?schema=fleet_a&pool_size=20&sslmode=require');
    expect(l.schema).toBe('fleet_a');
    expect(l.poolSize).toBe(20);
    expect(l.display).toBe('postgres://joinery@db.example:5433/js');
    const u = new URL(l.connectionString);
    expect(u.searchParams.get('schema')).toBeNull();
    expect(u.searchParams.get('pool_size')).toBeNull();
    expect(u.searchParams.get('sslmode')).toBe('require');
    expect(u.searchParams.get('options')).toBe('-c search_path=fleet_a');
    expect(u.searchParams.get('application_name')).toBe('joinery');
    expect(u.password).toBe('pw');
  });

  test('location/defaults: no schema (the server default), pool of 10; options and application_name kept', () => {
    const l = parsePostgresLocation('postgresql://127.0.0.1/js?application_name=mine&options=-c%20statement_timeout%3D5000');
    expect(l.schema).toBeNull();
    expect(l.poolSize).toBe(DEFAULT_POOL_SIZE);
    const u = new URL(l.connectionString);
    expect(u.searchParams.get('options')).toBe('-c statement_timeout=5000');
    expect(u.searchParams.get('application_name')).toBe('mine');
    const both = new URL(parsePostgresLocation('postgres://h/js?options=-c%20a%3Db', { schema: 's1' }).connectionString);
    expect(both.searchParams.get('options')).toBe('-c a=b -c search_path=s1');
  });

  test('location/no user in the URL: PGUSER, else the operating-system user (as psql does)', () => {
    const saved = process.env['PGUSER'];
    try {
      process.env['PGUSER'] = 'from-env';
      expect(new URL(parsePostgresLocation('postgres://h/db').connectionString).username).toBe('from-env');
      delete process.env['PGUSER'];
      expect(new URL(parsePostgresLocation('postgres://h/db').connectionString).username).toBe(encodeURIComponent(os.userInfo().username));
      expect(new URL(parsePostgresLocation('postgres://h/db?user=u2').connectionString).username).toBe('');
      expect(parsePostgresLocation('postgres://h/db').display).toBe('postgres://h/db');
    } finally {
      if (saved === undefined) delete process.env['PGUSER'];
      else process.env['PGUSER'] = saved;
    }
  });

  test('location/options override the URL', () => {
    const l = parsePostgresLocation('postgres://h/js?schema=a&pool_size=3', { schema: 'b', poolSize: 4 });
    expect([l.schema, l.poolSize]).toEqual(['b', 4]);
  });

  test.each([
    ['not a URL', 'postgres//nothing', /not a valid postgres:\/\/ URL/],
    ['another scheme', 'mysql://h/db', /expected a postgres:\/\/ or postgresql:\/\/ URL/],
    ['no database', 'postgres://u:hunter2@h:5432', /no database name/],
    ['no database, slash', 'postgres://u:hunter2@h:5432/', /no database name/],
    ['a schema needing quotes', 'postgres://h/db?schema=Fleet', /not a usable schema name/],
    ['an injected schema', 'postgres://h/db?schema=a;drop', /not a usable schema name/],
    ['pool 0', 'postgres://h/db?pool_size=0', /pool_size: expected an integer 1..1000/],
    ['pool not a number', 'postgres://h/db?pool_size=ten', /pool_size/],
  ])('location/refused: %s, with a clear message and never the password', (_what, url, message) => {
    let err: unknown;
    try {
      parsePostgresLocation(url);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('hunter2');
  });
});
