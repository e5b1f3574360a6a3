/** The Service kind as messages/ declares it: schema, the columns of `kubectl get svc`, describer. */
import type { KindInfo } from '../kind';
import { describeService, type SliceLike } from '../printing/describe-service';
import { serviceClusterIP, serviceExternalIP, servicePorts, serviceSelector } from '../printing/service-columns';
import { age } from '../printing/time';
import type { Service } from '../service';

export type { Service, ServicePort, ServiceSpec, ServiceStatus, ServiceType } from '../service';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let svcModuleLoaded: typeof import('../service') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const svcModule = () => (svcModuleLoaded ??= require('../service') as typeof import('../service'));

const svc = (o: unknown): Service => o as Service;

/** The label that ties an EndpointSlice to its Service (discovery.k8s.io/v1). */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** kubectl's service table (pkg/printers/internalversion/printers.go printService). */
export const ServiceKind: KindInfo = {
  apiVersion: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  namespaced: true,
  get schema() { return svcModule().ServiceSchema; },
  storage: 'store',
  description: 'Gives the pods its selector picks one stable virtual IP and DNS name (ClusterIP), a port on every node '
    + '(NodePort), the nodes as a load balancer (LoadBalancer), or a DNS alias (ExternalName).',
  categories: ['all'],
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'TYPE', value: (o) => svc(o).spec?.type ?? 'ClusterIP' },
    { name: 'CLUSTER-IP', value: (o) => serviceClusterIP(svc(o)) },
    { name: 'EXTERNAL-IP', value: (o) => serviceExternalIP(svc(o)) },
    { name: 'PORT(S)', value: (o) => servicePorts(svc(o)) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
    { name: 'SELECTOR', priority: 1, value: (o) => serviceSelector(svc(o)) },
  ],
  fieldSelectors: {
    'spec.type': (o) => svc(o).spec?.type ?? 'ClusterIP',
    'spec.clusterIP': (o) => svc(o).spec?.clusterIP,
  },
  describer: {
    // EndpointSlices, when the api serves them (otherwise none, and Endpoints reads <none>).
    related: [{
      plural: 'endpointslices',
      where: (s, o) => s.metadata.namespace === o.metadata.namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === o.metadata.name,
    }],
    describe: (o, ctx) => describeService(svc(o), ctx.related[0] as unknown as SliceLike[], ctx.events, ctx.now),
  },
};
