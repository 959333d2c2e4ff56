import { runServiceMain } from '../../lib/service-host.js';
import { NetworkModule } from './network.module.js';

runServiceMain('network', NetworkModule);
