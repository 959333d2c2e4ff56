import { runServiceMain } from '../../lib/service-host.js';
import { NamespaceModule } from './namespace.module.js';

runServiceMain('namespace', NamespaceModule);
