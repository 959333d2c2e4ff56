import { IsInt, IsString, Matches, Min } from 'class-validator';
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
