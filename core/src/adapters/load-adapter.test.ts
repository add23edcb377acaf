import { AdapterNotInstalledError, loadAdapter } from './load-adapter';

describe('adapters/loadAdapter', () => {
  it('a missing adapter package is a clear error naming the package', () => {
    expect(() => loadAdapter('generic')).toThrow(AdapterNotInstalledError);
    expect(() => loadAdapter('generic')).toThrow(/@joinery\/adapter-generic is not installed.*npm install @joinery\/adapter-generic/);
  });
  it('refuses a vendor id that is not one', () => {
    expect(() => loadAdapter('../core')).toThrow(/not a vendor id/);
  });
});
