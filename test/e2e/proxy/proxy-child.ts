/**
 * The service proxy as a process of its own, so a test can SIGKILL it: follows the objects bucket
 * of the nats-server at argv[2] and programs the network namespace at argv[3] as node argv[4].
 * Prints `ready` once the first sync is done; runs until killed, or until SIGTERM (then it removes
 * its rules).
 */
import { connectBus, ObjectStore } from '../../../bus';
import { setLogLevel } from '../../../common/log';
import { startServiceProxy } from '../../../node-agent/proxy';
import { watchServiceNetwork } from '../../../node-agent/service-network/view';

async function main(): Promise<void> {
  const [url, nsPath, nodeName, podCIDR] = process.argv.slice(2);
  setLogLevel('warn');
  const log = { info: () => undefined, warn: (o: object, m: string) => console.error(m, JSON.stringify(o)) };
  const bus = await connectBus({ servers: url, name: 'proxy-child' });
  const store = await ObjectStore.open(bus, { create: false });
  const source = await watchServiceNetwork({ store, log });
  const proxy = await startServiceProxy({
    source, log, prefix: ['nsenter', `--net=${nsPath}`, '--'], minSyncIntervalMs: 50, metrics: false,
    node: { name: nodeName, clusterCIDR: '10.244.0.0/16', podCIDR },
  });
  process.on('SIGTERM', () => {
    void proxy.stop({ cleanup: true }).then(() => source.stop()).then(() => bus.close()).then(() => process.exit(0));
  });
  process.stdout.write('ready\n');
}

main().catch((err) => {
  console.error(String(err));
  process.exit(1);
});
