import { adapterModule } from '@joinery/adapter-orbiwise';
import { adapterConformance } from '../../../test/src/adapters/adapter-conformance';
import { startOrbiwiseFake } from './fake-orbiwise';

adapterConformance({ vendor: 'orbiwise', capabilities: adapterModule.capabilities, refusedMACVersions: ['1.1'], startFake: startOrbiwiseFake });
