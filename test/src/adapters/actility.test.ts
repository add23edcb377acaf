import { adapterModule } from '@joinery/adapter-actility';
import { adapterConformance } from './adapter-conformance';
import { startActilityFake } from './fake-actility';

adapterConformance({ vendor: 'actility', capabilities: adapterModule.capabilities, startFake: startActilityFake });
