import { Type } from 'class-transformer';
import {
  ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested, IsBoolean,
} from 'class-validator';
import { CONTAINER_ID, ENV_ENTRY, HOSTNAME, USER_SPEC, USER_SPEC_MESSAGE } from './validators.js';

export class MountDto {
  @IsString() @Matches(/^\//, { message: 'mount destination must be absolute' }) destination: string;
  @IsString() type: string;
  @IsString() source: string;
  @IsOptional() @IsArray() @IsString({ each: true }) options?: string[];
}

export class RootfsDto {
  @IsArray() @ArrayMinSize(1) @IsString({ each: true }) lowerDirs: string[];
  @IsString() upperDir: string;
  @IsString() workDir: string;
  @IsString() mergedDir: string;
}

export class ProcessDto {
  @IsArray() @ArrayMinSize(1, { message: 'no command given and the image has none' }) @IsString({ each: true })
  args: string[];

  @IsArray() @Matches(ENV_ENTRY, { each: true, message: 'env entries must be KEY=VALUE' })
  env: string[];

  @IsString() @Matches(/^\//, { message: 'working directory must be absolute' }) cwd: string;
  @IsInt() @Min(0) uid: number;
  @IsInt() @Min(0) gid: number;
  /** docker's -u USER[:GROUP]: the runtime resolves it in the container (uid, gid, groups, HOME), overriding uid/gid */
  @IsOptional() @Matches(USER_SPEC, { message: USER_SPEC_MESSAGE }) username?: string;
}

/** a terminal's size at its creation (OCI process.consoleSize), so the command starts with it */
export class ConsoleSizeDto {
  @IsInt() @Min(1) @Max(65535) height: number;
  @IsInt() @Min(1) @Max(65535) width: number;
}

export class RunContainerDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;

  @ValidateNested() @Type(() => ProcessDto) process: ProcessDto;
  @ValidateNested() @Type(() => RootfsDto) rootfs: RootfsDto;

  @Matches(HOSTNAME, { message: 'hostname must be a valid host name' }) hostname: string;

  @IsArray() @ValidateNested({ each: true }) @Type(() => MountDto) mounts: MountDto[];

  @IsArray() @IsString({ each: true }) cgroupPaths: string[];

  @IsIn(['none']) network: string;

  @IsOptional() @IsBoolean() readonlyRootfs?: boolean;

  /** the runtime's own init as pid 1 (reaps orphans, forwards signals), as `docker run --init` */
  @IsOptional() @IsBoolean() init?: boolean;

  /** process.terminal: a pty from the container's own devpts, its master held by the shim */
  @IsOptional() @IsBoolean() terminal?: boolean;
  @IsOptional() @ValidateNested() @Type(() => ConsoleSizeDto) consoleSize?: ConsoleSizeDto;

  /** the container's stdin is a pipe fed by attach clients */
  @IsOptional() @IsBoolean() stdin?: boolean;

  /** run --rm: the upper dir goes with the container, so overlay may skip syncing it (volatile) */
  @IsOptional() @IsBoolean() volatile?: boolean;

  /** start (detached): the shim holds the output until a client attaches; the reply names the socket */
  @IsOptional() @IsBoolean() attach?: boolean;
}

/**
 * One more process in a running container (`docker exec`). What is not given is the container's:
 * env entries are added to its environment (replacing the same keys), cwd and user default to its own.
 */
export class ExecContainerDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' }) containerId: string;

  @IsArray() @ArrayMinSize(1, { message: 'no command given' }) @IsString({ each: true }) args: string[];

  @IsOptional() @IsArray() @Matches(ENV_ENTRY, { each: true, message: 'env entries must be KEY=VALUE' }) env?: string[];

  @IsOptional() @IsString() @Matches(/^\//, { message: 'working directory must be absolute' }) cwd?: string;
  @IsOptional() @IsInt() @Min(0) uid?: number;
  @IsOptional() @IsInt() @Min(0) gid?: number;
  /** docker's -u USER[:GROUP], resolved in the container; wins over uid/gid */
  @IsOptional() @Matches(USER_SPEC, { message: USER_SPEC_MESSAGE }) username?: string;
}

/**
 * exec -i / -t / -d (namespace.execStart): the process gets a shim of its own, in
 * <container dir>/exec/<id>/, which the caller attaches to (-i, -t) or which outlives it (-d).
 */
export class ExecStartDto extends ExecContainerDto {
  /** the process's stdin is a pipe fed by attach clients */
  @IsOptional() @IsBoolean() stdin?: boolean;
  /** process.terminal: a pty from the container's devpts */
  @IsOptional() @IsBoolean() terminal?: boolean;
  @IsOptional() @ValidateNested() @Type(() => ConsoleSizeDto) consoleSize?: ConsoleSizeDto;
  /** nobody attaches: the reply comes once the process runs; its output is dropped */
  @IsOptional() @IsBoolean() detach?: boolean;
}

export class ContainerRefDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' }) containerId: string;
}

export class SignalContainerDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' }) containerId: string;
  @IsInt() @Min(1) signal: number;
}

export class KeeperRequestDto {
  /** what the keeper is wanted for, named in the service's log when one is started */
  @IsOptional() @IsString() @MaxLength(80) @Matches(/^[\w .,:/-]*$/, { message: 'purpose must be plain words' })
  purpose?: string;
}
