import { IsIn, IsInt, Matches, Min } from 'class-validator';
import { CONTAINER_ID, HOSTNAME } from './validators.js';

export const NETWORK_MODES = ['none'] as const;

export class AttachNetworkDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;

  /** slirp, bridge and named networks come with the network issue; they are refused until then */
  @IsIn(NETWORK_MODES, { message: 'network must be one of: none (slirp, bridge and named networks are not supported yet)' })
  mode: string;

  @Matches(HOSTNAME, { message: 'hostname must be a valid host name' })
  hostname: string;

  @IsInt() @Min(0) rootUid: number;
  @IsInt() @Min(0) rootGid: number;
}

export class DetachNetworkDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;
}
