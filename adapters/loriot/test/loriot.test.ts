import { adapterModule } from '@joinery/adapter-loriot';
import { adapterConformance } from '../../../test/src/adapters/adapter-conformance';
import { startLoriotFake } from './fake-loriot';

adapterConformance({ vendor: 'loriot', capabilities: adapterModule.capabilities, startFake: startLoriotFake });

// LORIOT documents only 400/401/403: the same contract when duplicates and unknown devices come back 400, on an account without tier 2.
adapterConformance({
  vendor: 'loriot',
  capabilities: adapterModule.capabilities,
  startFake: async () => {
    const fake = await startLoriotFake();
    fake.errorStyle = 'bad-request';
    fake.tier2 = false;
    return fake;
  },
});
