import { AdapterNotInstalledError, loadAdapter } from './load-adapter';

describe('adapters/loadAdapter', () => {
  it('a missing adapter package is a clear error naming the package', () => {
    expect(() => loadAdapter('orbiwise')).toThrow(AdapterNotInstalledError);
    expect(() => loadAdapter('orbiwise')).toThrow(/@joinery\/adapter-orbiwise is not installed.*npm install @joinery\/adapter-orbiwise/);
  });
  it('refuses a vendor id that is not one', () => {
    expect(() => loadAdapter('../core')).toThrow(/not a vendor id/);
  });
});
