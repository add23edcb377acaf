export { ADAPTER_CAPABILITIES, type AdapterCapability } from './adapter-capability';
export { AdapterError, isRetryableHTTPStatus, parseRetryAfter, type AdapterOperation } from './adapter-error';
export type { AdapterDevice, DevicePage, DevicePageRequest, RemoteDevice } from './adapter-device';
export type { AdapterSetupInput, RenderedSetup, SetupFile } from './adapter-setup';
export type { EventWatch, NetworkServerEvent } from './network-server-event';
export { EventQueue } from './event-queue';
export { listAllDevices, type AdapterConfig, type AdapterModule, type NetworkServerAdapter } from './network-server-adapter';
export { DEFAULT_RETRY_POLICY, retryDelay, retryPolicy, withRetry, type RetryPolicy } from './retry';
export { AdapterNotInstalledError, adapterPackageName, loadAdapter } from './load-adapter';
