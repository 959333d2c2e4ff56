import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateNested, MaxLength } from 'class-validator';
import { ResourceLimitsDto } from './cgroup.dto.js';
import { NETWORK_MODES } from './network.dto.js';
import { ConsoleSizeDto } from './namespace.dto.js';
import { PullSettingsDto } from './storage.dto.js';
import { CONTAINER_ID, CONTAINER_NAME, ENV_ENTRY, LABEL_ENTRY, HOSTNAME, IMAGE_REF, USER_SPEC, USER_SPEC_MESSAGE } from './validators.js';

/** one -v, parsed by lib/volume-spec.ts */
export class VolumeSpecDto {
  @IsIn(['bind', 'volume']) kind: 'bind' | 'volume';
  /** bind: an absolute host path; volume: a name (checked by the storage service) */
  @IsString() @MaxLength(4096) source: string;
  @Matches(/^\/./, { message: 'a volume destination must be an absolute path other than /' }) @MaxLength(4096) destination: string;
  @IsBoolean() readonly: boolean;
}

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

  /** docker's -u USER[:GROUP] (names resolved in the container) */
  @IsOptional() @Matches(USER_SPEC, { message: USER_SPEC_MESSAGE })
  user?: string;

  @IsOptional() @Matches(HOSTNAME, { message: 'hostname must be a valid host name' }) @MaxLength(63)
  hostname?: string;

  @IsOptional() @Matches(CONTAINER_NAME, { message: 'name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*' })
  name?: string;

  @IsBoolean() remove: boolean;

  /** -l/--label, --label-file: KEY or KEY=VALUE, a later KEY overriding an earlier one */
  @IsOptional() @IsArray() @ArrayMaxSize(1024) @MaxLength(65536, { each: true }) @Matches(LABEL_ENTRY, { each: true, message: 'labels must be KEY or KEY=VALUE' }) labels?: string[];
  /** -v: named volumes and bind mounts */
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => VolumeSpecDto) volumes?: VolumeSpecDto[];

  /** --init: the runtime's init is pid 1 and the command its child */
  @IsOptional() @IsBoolean() init?: boolean;

  /** -d: reply once the container runs; its output goes to its log only */
  @IsOptional() @IsBoolean() detach?: boolean;

  /** -i: the container's stdin is a pipe the caller feeds through the shim's attach socket */
  @IsOptional() @IsBoolean() interactive?: boolean;

  /** -t: the container's stdio is a pty of its own devpts; the caller attaches to the shim */
  @IsOptional() @IsBoolean() tty?: boolean;
  /** -t: the caller's terminal size, the pty's from its creation */
  @IsOptional() @ValidateNested() @Type(() => ConsoleSizeDto) consoleSize?: ConsoleSizeDto;

  /** an image not stored is pulled first with these (docker's --pull missing); without, it is not found */
  @IsOptional() @ValidateNested() @Type(() => PullSettingsDto) pull?: PullSettingsDto;
  /** --pull always: pulled even when stored (needs `pull`) */
  @IsOptional() @IsBoolean() pullAlways?: boolean;

  @IsIn(NETWORK_MODES, { message: 'network must be one of: none (slirp, bridge and named networks are not supported yet)' })
  network: string;

  @IsOptional() @ValidateNested() @Type(() => ResourceLimitsDto) limits?: ResourceLimitsDto;
}

export class ListRequestDto {
  @IsBoolean() all: boolean;
}

export class StopRequestDto {
  @IsString() @MaxLength(128) container: string;
  /** seconds between SIGTERM and SIGKILL (docker's -t, default 10) */
  @IsOptional() @IsInt() @Min(0) @Max(86_400) timeout?: number;
}

/** `kill -s SIG`: a signal number (the CLI turns names into numbers) */
export class KillRequestDto {
  @IsString() @MaxLength(128) container: string;
  @IsInt() @Min(1) @Max(64) signal: number;
}

/** `rename OLD NEW` */
export class RenameRequestDto {
  @IsString() @MaxLength(128) container: string;
  @Matches(CONTAINER_NAME, { message: 'Invalid container name, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed' }) name: string;
}

/** `attach`, `pause`, `unpause`, `wait` CONTAINER: by name or id (prefix); the attached run's own wait is WaitRequestDto */
export class ContainerRefRequestDto {
  @IsString() @MaxLength(128) container: string;
}

/** `top CONTAINER [ps OPTIONS]`: the options as words, each an argument of the host's ps */
export class TopRequestDto {
  @IsString() @MaxLength(128) container: string;
  @IsOptional() @IsArray() @ArrayMaxSize(64) @IsString({ each: true }) @MaxLength(256, { each: true }) psArgs?: string[];
}

/** `logs [-f] [--tail N] [--since T] [--until T]` */
export class LogsRequestDto {
  @IsString() @MaxLength(128) container: string;
  @IsOptional() @IsBoolean() follow?: boolean;
  /** the last N entries only */
  @IsOptional() @IsInt() @Min(0) tail?: number;
  /** entries at or after this time only: nanoseconds since the epoch, in decimal (a bigint) */
  @IsOptional() @Matches(/^-?\d{1,25}$/, { message: 'since must be nanoseconds since the epoch, in decimal' }) since?: string;
  /** entries at or before this time only (and a follow ends there) */
  @IsOptional() @Matches(/^-?\d{1,25}$/, { message: 'until must be nanoseconds since the epoch, in decimal' }) until?: string;
}

export class RemoveRequestDto {
  @IsString() @MaxLength(128) container: string;
  @IsBoolean() force: boolean;
  /** -v: also the named volumes it used that no other container uses */
  @IsOptional() @IsBoolean() volumes?: boolean;
}

export class VolumeRemoveRequestDto {
  @IsString() @MaxLength(128) name: string;
}

export class ExecRequestDto {
  @IsString() @MaxLength(128) container: string;
  @IsArray() @ArrayMinSize(1, { message: 'no command given' }) @IsString({ each: true }) args: string[];
  @IsArray() @Matches(ENV_ENTRY, { each: true, message: 'env entries must be KEY=VALUE' }) env: string[];
  @IsOptional() @IsString() @Matches(/^\//, { message: 'working directory must be an absolute path' }) workdir?: string;
  /** docker's -u USER[:GROUP] (names resolved in the container) */
  @IsOptional() @Matches(USER_SPEC, { message: USER_SPEC_MESSAGE }) user?: string;
  @IsOptional() @IsBoolean() interactive?: boolean;
  @IsOptional() @IsBoolean() tty?: boolean;
  @IsOptional() @IsBoolean() detach?: boolean;
  @IsOptional() @ValidateNested() @Type(() => ConsoleSizeDto) consoleSize?: ConsoleSizeDto;
}

export class WaitRequestDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' }) containerId: string;
}

/** `export`: exactly one of `file` and `fifo` (absolute paths; see ExportRootfsDto) */
export class ExportRequestDto {
  @IsString() @MaxLength(128) container: string;
  @IsOptional() @Matches(/^\/[^\0]*$/, { message: 'file must be an absolute path' }) file?: string;
  @IsOptional() @Matches(/^\/[^\0]*$/, { message: 'fifo must be an absolute path' }) fifo?: string;
}

/** `commit [-a AUTHOR] [-m MESSAGE] CONTAINER [REPOSITORY[:TAG]]` */
export class CommitRequestDto {
  @IsString() @MaxLength(128) container: string;
  @IsOptional() @Matches(IMAGE_REF, { message: 'invalid reference format: repository name must be lowercase, like name or name:tag' })
  @Matches(/^[^@]*$/, { message: 'refusing to create a tag with a digest reference' })
  ref?: string;
  @IsOptional() @IsString() @MaxLength(65536) author?: string;
  @IsOptional() @IsString() @MaxLength(65536) comment?: string;
}

/** rmi IMAGE: a reference, a full id or a unique id prefix */
export class ImageRemoveRequestDto {
  @IsString() @MaxLength(256) image: string;
  @IsBoolean() force: boolean;
}

/** `stats`: containers by name or id (prefix); none means every running one */
export class StatsRequestDto {
  @IsArray() @IsString({ each: true }) @MaxLength(128, { each: true }) containers: string[];
}

/** `inspect`: one container by name or id (prefix) */
export class InspectRequestDto {
  @IsString() @MaxLength(128) container: string;
}

/** `create`: run's flags (-d aside, which the CLI refuses as docker does) */
export class CreateRequestDto extends RunRequestDto {}

/** `start [-a] CONTAINER`: -a replies with the shim's socket, which the caller relays itself */
export class StartRequestDto {
  @IsString() @MaxLength(128) container: string;
  @IsOptional() @IsBoolean() attach?: boolean;
  /** -a of a -t container: the caller's terminal size, the pty's from its creation */
  @IsOptional() @ValidateNested() @Type(() => ConsoleSizeDto) consoleSize?: ConsoleSizeDto;
}

/** `restart [-t S] CONTAINER` */
export class RestartRequestDto {
  @IsString() @MaxLength(128) container: string;
  /** seconds between SIGTERM and SIGKILL (docker's -t, default 10) */
  @IsOptional() @IsInt() @Min(0) @Max(86_400) timeout?: number;
}
