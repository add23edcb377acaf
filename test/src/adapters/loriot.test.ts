import { adapterModule } from '@joinery/adapter-loriot';
import { adapterConformance } from './adapter-conformance';
import { startLoriotFake } from './fake-loriot';

adapterConformance({ vendor: 'loriot', capabilities: adapterModule.capabilities, startFake: startLoriotFake });
