import { adapterModule } from '@joinery/adapter-chirpstack';
import { adapterConformance } from './adapter-conformance';
import { startChirpStackFake } from './fake-chirpstack';

adapterConformance({ vendor: 'chirpstack', capabilities: adapterModule.capabilities, startFake: startChirpStackFake });
