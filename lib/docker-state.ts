/**
 * A container's status in docker's words, for inspect's State.Status and ps's State: docker has
 * no "stopping" (a container being stopped runs until it has ended) nor "creating" (one being
 * made is created), and a paused container is "paused" though it runs.
 */
export function dockerStatus(c: { state: string; paused?: boolean }): string {
  if (c.state === 'stopping') return 'running';
  if (c.state === 'creating') return 'created';
  return c.state === 'running' && c.paused ? 'paused' : c.state;
}
