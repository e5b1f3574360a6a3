/** The Ingress kind as messages/ declares it: schema and the columns of `kubectl get ingress`. */
import type { Ingress } from '../ingress';
import type { KindInfo } from '../kind';
import { describeIngress } from '../printing/describe-ingress';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let ingressModuleLoaded: typeof import('../ingress') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const ingressModule = () => (ingressModuleLoaded ??= require('../ingress') as typeof import('../ingress'));

const ing = (o: unknown): Ingress => o as Ingress;

/** kubectl's HOSTS cell: the rules' hosts, `*` when none names one. */
function hosts(o: unknown): string {
  const list = [...new Set((ing(o).spec?.rules ?? []).map((r) => r.host).filter((h): h is string => !!h))];
  return list.length === 0 ? '*' : list.join(',');
}

/** kubectl's ADDRESS cell: the load balancer's addresses, comma-separated. */
function address(o: unknown): string {
  return (ing(o).status?.loadBalancer?.ingress ?? []).map((a) => a.ip ?? a.hostname ?? '').filter(Boolean).join(',');
}

const sameNamespace = (x: { metadata: { namespace?: string } }, o: { metadata: { namespace?: string } }) =>
  (x.metadata.namespace ?? 'default') === (o.metadata.namespace ?? 'default');

/** kubectl's ingress table (pkg/printers/internalversion/printers.go printIngress). */
export const IngressKind: KindInfo = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  shortNames: ['ing'],
  namespaced: true,
  get schema() { return ingressModule().IngressSchema; },
  storage: 'store',
  description: 'HTTP routes from hosts and paths to Services, served by the ingress proxy of every node '
    + '(plain HTTP; TLS is stored only).',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'CLASS', value: (o) => ing(o).spec?.ingressClassName ?? '<none>' },
    { name: 'HOSTS', value: hosts },
    { name: 'ADDRESS', value: address },
    { name: 'PORTS', value: (o) => ((ing(o).spec?.tls ?? []).length > 0 ? '80, 443' : '80') },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  ],
  describer: {
    related: [
      { plural: 'services', where: sameNamespace },
      { plural: 'endpointslices', where: sameNamespace },
    ],
    describe: (o, ctx) => describeIngress(ing(o), ctx.related[0], ctx.related[1], ctx.events, ctx.now),
  },
};
