/** @joinery/adapter-chirpstack: ChirpStack v4 behind Joinery's NetworkServerAdapter contract. */
import type { AdapterConfig, AdapterModule, AdapterSetupInput, NetworkServerAdapter, RenderedSetup } from '@joinery/core';
import { CHIRPSTACK_CAPABILITIES, ChirpStackAdapter } from './chirpstack-adapter';
import { CHIRPSTACK_OPTION_HELP, parseChirpStackConfig } from './chirpstack-options';
import { renderChirpStackSetup } from './chirpstack-setup';

export { ChirpStackAdapter, CHIRPSTACK_CAPABILITIES } from './chirpstack-adapter';
export { CHIRPSTACK_OPTION_HELP, CHIRPSTACK_REGIONS, parseChirpStackConfig, type ChirpStackOptions } from './chirpstack-options';
export { renderChirpStackSetup } from './chirpstack-setup';

export const adapterModule: AdapterModule = {
  vendor: 'chirpstack',
  capabilities: CHIRPSTACK_CAPABILITIES,
  optionHelp: CHIRPSTACK_OPTION_HELP,
  createAdapter(config: AdapterConfig): NetworkServerAdapter {
    return new ChirpStackAdapter(parseChirpStackConfig(config));
  },
  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderChirpStackSetup(input);
  },
};
