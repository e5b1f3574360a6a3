/**
 * `mk autoscale`'s work, without oclif: a HorizontalPodAutoscaler for an object with spec.replicas,
 * as kubectl autoscale makes one (--min, --max, --cpu-percent, --name). The target must exist;
 * the HPA is named after it unless --name says otherwise.
 */
import type { HorizontalPodAutoscaler } from '../messages/hpa';
import { HorizontalPodAutoscalerKind } from '../messages/kinds/hpa';
import type { KindInfo, KubeObject } from '../messages';
import type { Api } from './client';
import { CliError } from './errors';
import { namespaceFor, parseTargets } from './kinds';
import { requireScalable } from './scale';

/** What `mk autoscale` was asked. */
export interface AutoscaleOptions {
  min?: number;
  max?: number;
  /** The cpu utilization target in percent; undefined or -1: the server's default (80). */
  cpuPercent?: number;
  name?: string;
  namespace?: string;
}

/**
 * The HPA for `target` of `kind`. Throws CliError for flags kubectl refuses: --max missing or
 * below 1, --min above --max or below 1, --cpu-percent below -1 or 0.
 */
export function hpaFor(kind: KindInfo, target: string, opts: AutoscaleOptions): HorizontalPodAutoscaler {
  requireScalable(kind);
  if (opts.max === undefined || !Number.isInteger(opts.max) || opts.max < 1) throw new CliError('--max=MAXPODS is required and must be at least 1');
  if (opts.min !== undefined && opts.min !== -1 && (!Number.isInteger(opts.min) || opts.min < 1)) throw new CliError('--min=MINPODS must be at least 1');
  if (opts.min !== undefined && opts.min > opts.max) throw new CliError(`--max=MAXPODS must be larger or equal to --min=MINPODS (--min=${opts.min}, --max=${opts.max})`);
  const cpu = opts.cpuPercent;
  if (cpu !== undefined && cpu !== -1 && (!Number.isInteger(cpu) || cpu < 1)) throw new CliError('--cpu-percent must be a whole percentage above 0 (or -1 for the default, 80)');
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: opts.name ?? target },
    spec: {
      scaleTargetRef: { apiVersion: kind.apiVersion, kind: kind.kind, name: target },
      ...(opts.min !== undefined && opts.min !== -1 ? { minReplicas: opts.min } : {}),
      maxReplicas: opts.max,
      ...(cpu !== undefined && cpu !== -1
        ? { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }] }
        : {}),
    },
  };
}

/**
 * Makes the HPA for the one object `targets` names (`KIND NAME` or `KIND/NAME`), after checking
 * that it exists. Returns the line kubectl prints and the HPA as stored (as built, for a client
 * dry run, which writes nothing).
 */
export async function autoscale(api: Api, targets: string[], opts: AutoscaleOptions, dryRun: 'none' | 'client' | 'server' = 'none'): Promise<{ line: string; hpa: HorizontalPodAutoscaler }> {
  const [first, ...rest] = targets;
  if (first === undefined) throw new CliError('give the object to autoscale: KIND NAME or KIND/NAME (deployment/web)');
  const { kind, names } = parseTargets(first, rest);
  if (names.length !== 1) throw new CliError(`give exactly one ${kind.singular} to autoscale (got ${names.length})`);
  const hpa = hpaFor(kind, names[0], opts);
  const namespace = namespaceFor(kind, opts.namespace);
  // kubectl reads the target first: a typo is an error, not an HPA that never finds its target.
  await api.get(kind, namespace, names[0]);
  let made: KubeObject = hpa as unknown as KubeObject;
  if (dryRun !== 'client') {
    made = (await api.create({ object: made, ...(namespace ? { namespace } : {}), ...(dryRun === 'server' ? { dryRun: true } : {}) })).object;
  }
  const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
  return { line: `${HorizontalPodAutoscalerKind.singular}.autoscaling/${hpa.metadata.name} autoscaled${suffix}\n`, hpa: made as unknown as HorizontalPodAutoscaler };
}
