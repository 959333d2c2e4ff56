import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { CONTAINER_ID } from './validators.js';

/** The pairs (swap needs memory, at least it) and the host's CPUs are checked by the cgroup service. */
export class ResourceLimitsDto {
  /** bytes; docker's minimum is 6 MiB */
  @IsOptional() @IsInt() @Min(6 * 1024 * 1024, { message: 'memory must be at least 6m' })
  memory?: number;

  /** bytes of memory + swap (docker's --memory-swap); -1 is unlimited swap */
  @IsOptional() @IsInt() @Min(-1, { message: 'memorySwap must be -1 (unlimited) or a byte count' })
  memorySwap?: number;

  /** fraction of CPUs, e.g. 0.5 */
  @IsOptional() @IsNumber() @Min(0.01, { message: 'cpus must be at least 0.01' }) @Max(1024)
  cpus?: number;

  /** v1 cpu.shares (v2: cpu.weight by the OCI runtimes' conversion) */
  @IsOptional() @IsInt() @Min(2, { message: 'cpuShares must be 2 to 262144' }) @Max(262_144, { message: 'cpuShares must be 2 to 262144' })
  cpuShares?: number;

  /** CPU list, e.g. 0-2,4 */
  @IsOptional() @MaxLength(256) @Matches(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, { message: 'cpusetCpus must be a CPU list like 0-2,4' })
  cpusetCpus?: string;

  @IsOptional() @IsInt() @Min(1, { message: 'pidsLimit must be at least 1' })
  pidsLimit?: number;
}

export class CreateCgroupDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;

  @IsOptional() @ValidateNested() @Type(() => ResourceLimitsDto)
  limits?: ResourceLimitsDto;
}

/** destroy, stats, freeze, thaw: one container's cgroup */
export class DestroyCgroupDto {
  @Matches(CONTAINER_ID, { message: 'containerId must be 64 hex characters' })
  containerId: string;
}
