import { adapterModule } from '@joinery/adapter-chirpstack';
import { adapterConformance } from '../../../test/src/adapters/adapter-conformance';
import { startChirpStackFake } from './fake-chirpstack';

adapterConformance({ vendor: 'chirpstack', capabilities: adapterModule.capabilities, startFake: startChirpStackFake });
