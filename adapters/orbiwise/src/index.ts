/** @joinery/adapter-orbiwise: Orbiwise OrbiWAN behind Joinery's NetworkServerAdapter contract. */
import type { AdapterConfig, AdapterModule, AdapterSetupInput, NetworkServerAdapter, RenderedSetup } from '@joinery/core';
import { OrbiwiseAdapter, ORBIWISE_CAPABILITIES } from './orbiwise-adapter';
import { ORBIWISE_OPTION_HELP, parseOrbiwiseConfig } from './orbiwise-options';
import { renderOrbiwiseSetup } from './orbiwise-setup';

export { OrbiwiseAdapter, ORBIWISE_CAPABILITIES } from './orbiwise-adapter';
export { createNodeBody, LIST_RESTARTS, LORAWAN_11_REFUSAL, REREGISTER_WINDOW_MS, remoteNode } from './orbiwise-node-calls';
export { ORBIWISE_DEFAULT_RATE_LIMIT, ORBIWISE_OPTION_HELP, parseOrbiwiseConfig, type OrbiwiseAuth, type OrbiwiseOptions } from './orbiwise-options';
export { renderOrbiwiseSetup } from './orbiwise-setup';

export const adapterModule: AdapterModule = {
  vendor: 'orbiwise',
  capabilities: ORBIWISE_CAPABILITIES,
  optionHelp: ORBIWISE_OPTION_HELP,
  createAdapter(config: AdapterConfig): NetworkServerAdapter {
    return new OrbiwiseAdapter(parseOrbiwiseConfig(config));
  },
  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderOrbiwiseSetup(input);
  },
};
