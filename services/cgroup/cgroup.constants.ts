export const CGROUP_MANAGER = Symbol('CgroupManager');
