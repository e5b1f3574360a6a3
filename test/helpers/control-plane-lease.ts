/** The control planes' leader lease as the CLI shows it, for e2e tests of failover. */
import type { Lease } from '../../messages';

type Mk = (args: string[]) => Promise<{ code: number | null; stdout: string }>;

/** `mk get lease mk-control-plane -n mk-system`, or undefined while it cannot be read. */
export async function controlPlaneLease(mk: Mk): Promise<Lease | undefined> {
  const r = await mk(['get', 'lease', 'mk-control-plane', '-n', 'mk-system', '-o', 'json']);
  return r.code === 0 ? JSON.parse(r.stdout) as Lease : undefined;
}

/** The pid in the holder identity (`<host>_<pid>_<nonce>`). */
export function holderPid(l: Lease | undefined): number | undefined {
  const id = l?.spec?.holderIdentity;
  return id ? Number(id.split('_').at(-2)) : undefined;
}
