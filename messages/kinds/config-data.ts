/**
 * The ConfigMap and Secret kinds as messages/ declares them: schema, columns (kubectl's printConfigMap
 * and printSecret) and describers that show each key's size, never a secret's value.
 */
import type { ConfigMap, Secret } from '../config-data';
import type { KindInfo } from '../kind';
import type { KubeObject } from '../meta';
import { DescribeWriter, writeAnnotations, writeEvents, writeLabels } from '../printing/describe-writer';
import { age } from '../printing/time';

/** The schemas' module, loaded on first use (see kinds/node.ts). */
let configModuleLoaded: typeof import('../config-data') | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, see above
const configModule = () => (configModuleLoaded ??= require('../config-data') as typeof import('../config-data'));

const count = (m: Record<string, string> | undefined): number => Object.keys(m ?? {}).length;

function header(w: DescribeWriter, o: KubeObject): void {
  w.write(0, `Name:\t${o.metadata.name}\n`);
  w.write(0, `Namespace:\t${o.metadata.namespace ?? 'default'}\n`);
  writeLabels(w, 'Labels', o.metadata.labels);
  writeAnnotations(w, 'Annotations', o.metadata.annotations);
}

/** kubectl's table of config maps: NAME DATA AGE (DATA counts data and binaryData keys). */
export const ConfigMapKind: KindInfo = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  namespaced: true,
  get schema() { return configModule().ConfigMapSchema; },
  storage: 'store',
  description: 'Configuration as named text or byte values, which pods take environment variables from.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'DATA', value: (o) => String(count((o as unknown as ConfigMap).data) + count((o as unknown as ConfigMap).binaryData)) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  ],
  describer: {
    describe(o, ctx) {
      const cm = o as unknown as ConfigMap;
      const w = new DescribeWriter();
      header(w, o);
      w.write(0, '\nData\n====\n');
      for (const k of Object.keys(cm.data ?? {}).sort()) w.write(0, `${k}:\n----\n${cm.data![k]}\n\n`);
      w.write(0, '\nBinaryData\n====\n');
      for (const k of Object.keys(cm.binaryData ?? {}).sort()) {
        w.write(0, `${k}: ${Buffer.byteLength(cm.binaryData![k], 'base64')} bytes\n`);
      }
      w.write(0, '\n');
      writeEvents(w, ctx.events, (ts) => age(ts, ctx.now));
      return w.toString();
    },
  },
};

/** kubectl's table of secrets: NAME TYPE DATA AGE. */
export const SecretKind: KindInfo = {
  apiVersion: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  shortNames: [],
  namespaced: true,
  get schema() { return configModule().SecretSchema; },
  storage: 'store',
  description: 'Sensitive values (passwords, tokens, registry logins) by key, stored in base64, which pods take '
    + 'environment variables and image pull credentials from.',
  columns: [
    { name: 'NAME', value: (o) => o.metadata.name },
    { name: 'TYPE', value: (o) => (o as unknown as Secret).type ?? 'Opaque' },
    { name: 'DATA', value: (o) => String(count((o as unknown as Secret).data)) },
    { name: 'AGE', value: (o, now) => age(o.metadata.creationTimestamp, now) },
  ],
  fieldSelectors: { type: (o) => (o as unknown as Secret).type ?? 'Opaque' },
  describer: {
    describe(o, ctx) {
      const s = o as unknown as Secret;
      const w = new DescribeWriter();
      header(w, o);
      w.write(0, `\nType:\t${s.type ?? 'Opaque'}\n\nData\n====\n`);
      for (const k of Object.keys(s.data ?? {}).sort()) w.write(0, `${k}:\t${Buffer.byteLength(s.data![k], 'base64')} bytes\n`);
      w.write(0, '\n');
      writeEvents(w, ctx.events, (ts) => age(ts, ctx.now));
      return w.toString();
    },
  },
};
