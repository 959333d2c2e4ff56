/**
 * `nestbox port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports, from
 * inspect's NetworkSettings.Ports (docker's `80/tcp -> 0.0.0.0:8080` lines). Until networking
 * publishes ports (`run -p` is refused) there are none: nothing is printed, as docker does for
 * a container without ports, and a port asked for is "not published".
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { serviceRefusal } from './service-refusal.js';

type Bindings = Record<string, { HostIp: string; HostPort: string }[] | null>;

export async function portCommand(argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, [], { stopAtFirstPositional: false });
  if (positionals.length < 1 || positionals.length > 2) {
    throw new NestboxError('INVALID_ARGUMENT', '"nestbox port" requires 1 or 2 arguments: CONTAINER [PRIVATE_PORT[/PROTO]]');
  }
  const [ref, wanted] = positionals;
  let key: string | undefined;
  if (wanted !== undefined) {
    const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(wanted);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new NestboxError('INVALID_ARGUMENT', `invalid port "${wanted}": expected PORT[/tcp|udp|sctp], PORT from 1 to 65535`);
    key = `${Number(m[1])}/${m[2] ?? 'tcp'}`;
  }
  await ensureServices();
  const client = clientFor('lifecycle');
  let view: { Name: string; NetworkSettings?: { Ports?: Bindings } };
  try {
    view = await client.request(LIFECYCLE.inspect, { container: ref });
  } catch (err) {
    return serviceRefusal(err);
  } finally {
    client.close();
  }
  const ports = view.NetworkSettings?.Ports ?? {};
  if (key !== undefined) {
    const bound = ports[key];
    if (!bound?.length) {
      process.stderr.write(`nestbox: No public port '${key}' published for ${view.Name.replace(/^\//, '')}\n`);
      return 1;
    }
    process.stdout.write(bound.map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}\n`).join(''));
    return 0;
  }
  const lines = Object.entries(ports).flatMap(([k, bound]) => (bound ?? []).map((b) => `${k} -> ${b.HostIp || '0.0.0.0'}:${b.HostPort}\n`));
  process.stdout.write(lines.join(''));
  return 0;
}
