import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, ValidateNested, MaxLength } from 'class-validator';
import { ResourceLimitsDto } from './cgroup.dto.js';
import { NETWORK_MODES } from './network.dto.js';
import { CONTAINER_NAME, ENV_ENTRY, HOSTNAME, IMAGE_REF } from './validators.js';

export class RunRequestDto {
  @Matches(IMAGE_REF, { message: 'image must be a reference like busybox or name:tag' })
  image: string;

  /** replaces the image's Cmd; empty means the image's */
  @IsArray() @IsString({ each: true }) command: string[];

  /** replaces the image's Entrypoint when set ("" clears it, as docker's --entrypoint "") */
  @IsOptional() @IsString() entrypoint?: string;

  @IsArray() @Matches(ENV_ENTRY, { each: true, message: 'env entries must be KEY=VALUE' }) env: string[];

  @IsOptional() @IsString() @Matches(/^\//, { message: 'working directory must be an absolute path' })
  workdir?: string;

  /** UID[:GID], numeric for now */
  @IsOptional() @Matches(/^\d{1,10}(:\d{1,10})?$/, { message: 'user must be UID[:GID] (numeric)' })
  user?: string;

  @IsOptional() @Matches(HOSTNAME, { message: 'hostname must be a valid host name' }) @MaxLength(63)
  hostname?: string;

  @IsOptional() @Matches(CONTAINER_NAME, { message: 'name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*' })
  name?: string;

  @IsBoolean() remove: boolean;

  /** --init: the runtime's init is pid 1 and the command its child */
  @IsOptional() @IsBoolean() init?: boolean;

  @IsIn(NETWORK_MODES, { message: 'network must be one of: none (slirp, bridge and named networks are not supported yet)' })
  network: string;

  @IsOptional() @ValidateNested() @Type(() => ResourceLimitsDto) limits?: ResourceLimitsDto;
}

export class ListRequestDto {
  @IsBoolean() all: boolean;
}

export class RemoveRequestDto {
  @IsString() @MaxLength(128) container: string;
  @IsBoolean() force: boolean;
}
