/** @joinery/adapter-actility: Actility ThingPark behind Joinery's NetworkServerAdapter contract. */
import { adapterWarnings, type AdapterConfig, type AdapterModule, type AdapterSetupInput, type NetworkServerAdapter, type RenderedSetup } from '@joinery/core';
import { ActilityAdapter, ACTILITY_CAPABILITIES } from './actility-adapter';
import { ACTILITY_OPTION_HELP, parseActilityConfig } from './actility-options';
import { renderActilitySetup } from './actility-setup';

export { ActilityAdapter, ACTILITY_CAPABILITIES, NO_ROUTING_PROFILE_WARNING } from './actility-adapter';
export { ACTILITY_DEFAULT_RATE_LIMIT, ACTILITY_OPTION_HELP, actilityBaseURL, actilityTokenURL, parseActilityConfig, THINGPARK_PAGE, type ActilityAuthScheme, type ActilityOptions } from './actility-options';
export { renderActilitySetup } from './actility-setup';
export { refreshMarginMs } from '@joinery/core';

export const adapterModule: AdapterModule = {
  vendor: 'actility',
  capabilities: ACTILITY_CAPABILITIES,
  optionHelp: ACTILITY_OPTION_HELP,
  createAdapter(config: AdapterConfig): NetworkServerAdapter {
    return new ActilityAdapter(parseActilityConfig(config), adapterWarnings(config, 'actility'));
  },
  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderActilitySetup(input);
  },
};
