import { adapterModule } from '@joinery/adapter-actility';
import { adapterConformance } from '../../../test/src/adapters/adapter-conformance';
import { startActilityFake } from './fake-actility';

adapterConformance({ vendor: 'actility', capabilities: adapterModule.capabilities, startFake: startActilityFake });
