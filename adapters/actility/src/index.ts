/** @joinery/adapter-actility: Actility ThingPark behind Joinery's NetworkServerAdapter contract. */
import type { AdapterConfig, AdapterModule, AdapterSetupInput, NetworkServerAdapter, RenderedSetup } from '@joinery/core';
import { ActilityAdapter, ACTILITY_CAPABILITIES } from './actility-adapter';
import { ACTILITY_OPTION_HELP, parseActilityConfig } from './actility-options';
import { renderActilitySetup } from './actility-setup';

export { ActilityAdapter, ACTILITY_CAPABILITIES } from './actility-adapter';
export { ACTILITY_DEFAULT_RATE_LIMIT, ACTILITY_OPTION_HELP, actilityBaseURL, parseActilityConfig, type ActilityOptions } from './actility-options';
export { renderActilitySetup } from './actility-setup';
export { ActilityTokenSource, refreshMarginMs } from './actility-token';

export const adapterModule: AdapterModule = {
  vendor: 'actility',
  capabilities: ACTILITY_CAPABILITIES,
  optionHelp: ACTILITY_OPTION_HELP,
  createAdapter(config: AdapterConfig): NetworkServerAdapter {
    return new ActilityAdapter(parseActilityConfig(config));
  },
  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderActilitySetup(input);
  },
};
