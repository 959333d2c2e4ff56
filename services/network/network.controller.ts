import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { NETWORK } from '../../lib/contracts/patterns.js';
import { AttachNetworkDto, DetachNetworkDto } from '../../lib/contracts/network.dto.js';
import type { NetworkAttachment } from '../../lib/contracts/types.js';
import { ContainerNetworkFiles } from './container-files.js';

@Controller()
export class NetworkController {
  constructor(@Inject(ContainerNetworkFiles) private readonly files: ContainerNetworkFiles) {}

  /** Only `none` exists until the network issue; the DTO refuses other modes with a clear error. */
  @MessagePattern(NETWORK.attach)
  attach(@Payload() req: AttachNetworkDto): NetworkAttachment {
    return this.files.attachNone({
      containerId: req.containerId, mode: req.mode, hostname: req.hostname, owner: { uid: req.rootUid, gid: req.rootGid },
    });
  }

  @MessagePattern(NETWORK.detach)
  detach(@Payload() req: DetachNetworkDto): { detached: true } {
    this.files.detach(req.containerId);
    return { detached: true };
  }
}
