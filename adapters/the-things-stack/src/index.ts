/** @joinery/adapter-the-things-stack: The Things Stack v3 behind Joinery's NetworkServerAdapter contract. */
import type { AdapterConfig, AdapterModule, AdapterSetupInput, NetworkServerAdapter, RenderedSetup } from '@joinery/core';
import { TheThingsStackAdapter, TTS_CAPABILITIES } from './tts-adapter';
import { parseTTSConfig, TTS_OPTION_HELP } from './tts-options';
import { renderTTSSetup } from './tts-setup';

export { TheThingsStackAdapter, TTS_CAPABILITIES } from './tts-adapter';
export { parseTTSConfig, TTS_OPTION_HELP, type TTSOptions } from './tts-options';
export { dcsJoinServerFile, renderDCSSetup, renderTTSSetup } from './tts-setup';
export { TTS_MAC_VERSION, TTS_PHY_VERSION, ttsDeviceID } from './tts-versions';

export const adapterModule: AdapterModule = {
  vendor: 'the-things-stack',
  capabilities: TTS_CAPABILITIES,
  optionHelp: TTS_OPTION_HELP,
  createAdapter(config: AdapterConfig): NetworkServerAdapter {
    return new TheThingsStackAdapter(parseTTSConfig(config));
  },
  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderTTSSetup(input);
  },
};
