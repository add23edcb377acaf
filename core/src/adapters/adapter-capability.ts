/**
 * What an adapter can do beyond its BI dialect. The conformance suite skips the cases of a
 * capability an adapter does not declare.
 * - `setup-files`: renderSetup returns config files for the network server (not only a sheet);
 * - `devices`: register / deregister / get devices through the network server's API;
 * - `list-devices`: list the devices on the network server, page by page;
 * - `watch`: a stream of join and uplink events from the network server (MQTT);
 * - `local-join`: tells whether the network server would join a device itself, without asking
 *   Joinery (it holds the device's root keys, or its own Join Server has the device), and
 *   removes what makes it do so.
 */
export const ADAPTER_CAPABILITIES = ['setup-files', 'devices', 'list-devices', 'watch', 'local-join'] as const;
export type AdapterCapability = (typeof ADAPTER_CAPABILITIES)[number];
