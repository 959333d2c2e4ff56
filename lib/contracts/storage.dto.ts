import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { CONTAINER_ID, IMAGE_REF } from './validators.js';
import { VOLUME_NAME } from '../volume-spec.js';

export class ResolveImageDto {
  @Matches(IMAGE_REF, { message: 'image must be a reference like busybox or name:tag' })
  ref: string;

  /** host ids of container root: the owner layers are extracted for */
  @IsInt() @Min(0) rootUid: number;
  @IsInt() @Min(0) rootGid: number;
}

export class PrepareRootfsDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;

  @IsString() @Matches(/^sha256:[0-9a-f]{64}$/, { message: 'imageId must be sha256:<64 hex>' })
  imageId: string;

  @IsInt() @Min(0) rootUid: number;
  @IsInt() @Min(0) rootGid: number;
}

export class VolumeNameDto {
  @Matches(VOLUME_NAME, { message: 'volume name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*' })
  name: string;
}

/** a named volume, made now if it does not exist, its data owned by container root */
export class EnsureVolumeDto extends VolumeNameDto {
  @IsInt() @Min(0) rootUid: number;
  @IsInt() @Min(0) rootGid: number;
}

export class RemoveRootfsDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;
}

export class ImportImageDto {
  /** resolved by the CLI: the service's working directory is / */
  @IsString() @MaxLength(4096) @Matches(/^\/[^\0]*$/, { message: 'source must be an absolute path' })
  source: string;

  @IsOptional() @Matches(IMAGE_REF, { message: 'reference must be like name or name:tag (lower-case name)' })
  ref?: string;

  @IsInt() @Min(0) rootUid: number;
  @IsInt() @Min(0) rootGid: number;

  /** cap on the uncompressed size (NESTBOX_MAX_LAYER_BYTES); the service's default when absent */
  @IsOptional() @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER) maxBytes?: number;
}

const ABSOLUTE = /^\/[^\0]*$/;

/** Exactly one of `file` (written under a temporary name, renamed at the end) and `fifo` (its reader waits). */
export class ExportRootfsDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;

  @IsString() @Matches(/^sha256:[0-9a-f]{64}$/, { message: 'imageId must be sha256:<64 hex>' })
  imageId: string;

  @IsOptional() @Matches(ABSOLUTE, { message: 'file must be an absolute path' })
  file?: string;

  @IsOptional() @Matches(ABSOLUTE, { message: 'fifo must be an absolute path' })
  fifo?: string;
}

/** `commit`: the container's upper dir as one more layer on its image (lifecycle fills it from the record) */
export class CommitContainerDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;

  @IsString() @Matches(/^sha256:[0-9a-f]{64}$/, { message: 'imageId must be sha256:<64 hex>' })
  imageId: string;

  @IsOptional() @Matches(IMAGE_REF, { message: 'reference must be like name or name:tag (lower-case name)' }) @Matches(/^[^@]*$/, { message: 'reference must be a tag, not a digest' })
  ref?: string;

  @IsString() @MaxLength(65536) createdBy: string;
  @IsOptional() @IsString() @MaxLength(65536) author?: string;
  @IsOptional() @IsString() @MaxLength(65536) comment?: string;

  /** host ids of container root: the owner the new layer is extracted for */
  @IsInt() @Min(0) rootUid: number;
  @IsInt() @Min(0) rootGid: number;
}

/** `nestbox load`: a docker archive or an OCI layout (a tar, or a directory), read by the service as the caller */
export class LoadImagesDto {
  /** resolved by the CLI (stdin: a temporary file it made) */
  @IsString() @MaxLength(4096) @Matches(ABSOLUTE, { message: 'source must be an absolute path' })
  source: string;

  @IsInt() @Min(0) rootUid: number;
  @IsInt() @Min(0) rootGid: number;

  /** cap on each layer's uncompressed size (NESTBOX_MAX_LAYER_BYTES) */
  @IsOptional() @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER) maxBytes?: number;
}

/** an image reference, or an image id (sha256:<hex>, or 12 or more hex digits of it) */
const IMAGE_REF_OR_ID = new RegExp(`${IMAGE_REF.source}|^(sha256:)?[0-9a-f]{12,64}$`);

/** `nestbox save`: exactly one of `file` and `fifo`, as ExportRootfsDto */
export class SaveImagesDto {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000)
  @Matches(IMAGE_REF_OR_ID, { each: true, message: 'each image must be a reference like name:tag or an image id' })
  images: string[];

  @IsOptional() @Matches(ABSOLUTE, { message: 'file must be an absolute path' })
  file?: string;

  @IsOptional() @Matches(ABSOLUTE, { message: 'fifo must be an absolute path' })
  fifo?: string;
}

/**
 * Where a pull finds what the caller's environment says (`nestbox pull`, and `run` of an image
 * not stored): the CLI passes its user's docker config dir and the registries allowed plain HTTP.
 */
export class PullSettingsDto {
  /** the directory of config.json ($DOCKER_CONFIG, else ~/.docker), read by the service as the user */
  @IsOptional() @MaxLength(4096) @Matches(ABSOLUTE, { message: 'dockerConfig must be an absolute path' })
  dockerConfig?: string;

  /** NESTBOX_INSECURE_REGISTRIES: host:port entries reachable over plain HTTP */
  @IsOptional() @IsArray() @ArrayMaxSize(64)
  @Matches(/^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+)(:[0-9]+)?$/, { each: true, message: 'insecureRegistries entries must be host[:port]' })
  insecureRegistries?: string[];

  /** cap on each layer's uncompressed size (NESTBOX_MAX_LAYER_BYTES); the service's default when absent */
  @IsOptional() @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER) maxBytes?: number;
}

/** `nestbox pull REF` */
export class PullImageDto extends PullSettingsDto {
  @IsString() @MaxLength(1024) @Matches(IMAGE_REF, { message: 'reference must be like name, name:tag, host:port/name:tag or name@sha256:<hex>' })
  ref: string;

  @IsInt() @Min(0) rootUid: number;
  @IsInt() @Min(0) rootGid: number;
}

/** an image as rmi takes it: a reference (with a registry host:port), a full id or an id prefix */
export const IMAGE_NAME_OR_ID = /^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,255}$/;
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

export class LookupImageDto {
  @Matches(IMAGE_NAME_OR_ID, { message: 'image must be a reference (name[:tag]) or an image id' })
  image: string;
}

export class RemoveImageDto {
  @Matches(IMAGE_ID, { message: 'id must be sha256:<64 hex>' }) id: string;

  /** tags to remove (each untagged while it still names this image) */
  @IsArray() @Matches(IMAGE_NAME_OR_ID, { each: true, message: 'untag entries must be references' }) untag: string[];

  /** delete the image (every entry of it) once untagged; else an untagged image stays as `<none>` */
  @IsBoolean() delete: boolean;

  /** image ids of every container record: their layers survive garbage collection */
  @IsArray() @Matches(IMAGE_ID, { each: true, message: 'inUse entries must be sha256:<64 hex>' }) inUse: string[];
}

export class DiskUsageDto {
  /** the containers (lifecycle's records) whose upper dirs are measured */
  @IsArray() @Matches(CONTAINER_ID, { each: true, message: 'containers must be 64 hex ids' }) containers: string[];
}
