import { IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';
import { CONTAINER_ID, IMAGE_REF } from './validators.js';

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

export class RemoveRootfsDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;
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
