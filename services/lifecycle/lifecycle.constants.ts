export const SERVICE_CALLER = Symbol('ServiceCaller');
