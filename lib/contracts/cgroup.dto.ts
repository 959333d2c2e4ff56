import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, Matches, Max, Min, ValidateNested } from 'class-validator';
import { CONTAINER_ID } from './validators.js';

export class ResourceLimitsDto {
  /** bytes; docker's minimum is 6 MiB */
  @IsOptional() @IsInt() @Min(6 * 1024 * 1024, { message: 'memory must be at least 6m' })
  memory?: number;

  /** fraction of CPUs, e.g. 0.5 */
  @IsOptional() @IsNumber() @Min(0.01, { message: 'cpus must be at least 0.01' }) @Max(1024)
  cpus?: number;

  @IsOptional() @IsInt() @Min(1, { message: 'pidsLimit must be at least 1' })
  pidsLimit?: number;
}

export class CreateCgroupDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;

  @IsOptional() @ValidateNested() @Type(() => ResourceLimitsDto)
  limits?: ResourceLimitsDto;
}

export class DestroyCgroupDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;
}
