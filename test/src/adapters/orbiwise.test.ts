import { adapterModule } from '@joinery/adapter-orbiwise';
import { adapterConformance } from './adapter-conformance';
import { startOrbiwiseFake } from './fake-orbiwise';

adapterConformance({ vendor: 'orbiwise', capabilities: adapterModule.capabilities, startFake: startOrbiwiseFake });
