/**
 * `inspect IMAGE` / `image inspect`: a stored image in the shape of docker's image inspect
 * (Id, RepoTags, Created, Config with docker's empty fields, Architecture, Os, Size, RootFS,
 * Metadata), from its OCI config. Pure: the store reads, this shapes.
 */
import type { OciImageConfig } from './image-store.js';

export function imageInspectView(id: string, refs: string[], config: OciImageConfig, size: number): Record<string, unknown> {
  const c = config.config ?? {};
  const labels = (c as { Labels?: Record<string, string> }).Labels;
  return {
    Id: id,
    RepoTags: refs,
    RepoDigests: [],
    Parent: '',
    Comment: config.comment ?? '',
    Created: config.created ?? '0001-01-01T00:00:00Z',
    Container: config.container ?? '',
    DockerVersion: '',
    Author: config.author ?? '',
    Config: {
      Hostname: '', Domainname: '', User: c.User ?? '',
      AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false,
      Env: c.Env ?? null, Cmd: c.Cmd ?? null, Image: '', Volumes: null, WorkingDir: c.WorkingDir ?? '',
      Entrypoint: c.Entrypoint ?? null, OnBuild: null, Labels: labels ?? null,
    },
    Architecture: config.architecture,
    Os: config.os,
    Size: size,
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}
