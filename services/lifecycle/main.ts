import { runServiceMain } from '../../lib/service-host.js';
import { LifecycleModule } from './lifecycle.module.js';

runServiceMain('lifecycle', LifecycleModule);
