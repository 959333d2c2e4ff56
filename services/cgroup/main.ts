import { runServiceMain } from '../../lib/service-host.js';
import { CgroupModule } from './cgroup.module.js';

runServiceMain('cgroup', CgroupModule);
