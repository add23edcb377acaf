import { adapterModule } from '@joinery/adapter-the-things-stack';
import { adapterConformance } from '../../../test/src/adapters/adapter-conformance';
import { startTTSFake } from './fake-the-things-stack';

adapterConformance({ vendor: 'the-things-stack', capabilities: adapterModule.capabilities, startFake: startTTSFake });
