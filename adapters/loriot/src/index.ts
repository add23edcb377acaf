/** @joinery/adapter-loriot: LORIOT behind Joinery's NetworkServerAdapter contract. */
import { adapterWarnings, type AdapterConfig, type AdapterModule, type AdapterSetupInput, type NetworkServerAdapter, type RenderedSetup } from '@joinery/core';
import { LoriotAdapter, LORIOT_CAPABILITIES } from './loriot-adapter';
import { LORIOT_OPTION_HELP, parseLoriotConfig } from './loriot-options';
import { renderLoriotSetup } from './loriot-setup';

export { LoriotAdapter, LORIOT_CAPABILITIES } from './loriot-adapter';
export { isDuplicate, isUnknown, loriotVersion } from './loriot-answers';
export { createWithoutAppKey } from './loriot-appkey';
export { LORIOT_DEFAULT_RATE_LIMIT, LORIOT_OPTION_HELP, loriotBaseURL, parseLoriotConfig, type LoriotOptions } from './loriot-options';
export { renderLoriotSetup } from './loriot-setup';

export const adapterModule: AdapterModule = {
  vendor: 'loriot',
  capabilities: LORIOT_CAPABILITIES,
  optionHelp: LORIOT_OPTION_HELP,
  createAdapter(config: AdapterConfig): NetworkServerAdapter {
    return new LoriotAdapter(parseLoriotConfig(config), adapterWarnings(config, 'loriot'));
  },
  /** Without an API connection: the joinServerId is not known here (ns add passes it in the sheet through the adapter). */
  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderLoriotSetup(input, null);
  },
};
