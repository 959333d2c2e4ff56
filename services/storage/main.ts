import { runServiceMain } from '../../lib/service-host.js';
import { StorageModule } from './storage.module.js';

runServiceMain('storage', StorageModule);
