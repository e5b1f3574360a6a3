import net from 'node:net';
import { Args, Flags } from '@oclif/core';
import { isNoResponders } from '../../bus/core-errors';
import { BUS_LOST, isStreamLost, SOCKET_CLOSED, type RelayStream } from '../../bus/relay-stream';
import { MkCommand, namespaceFlags } from '../base-command';
import { withClient } from '../client';
import { CliError } from '../errors';
import { assertRunning, forwardConnection, parsePortSpec, resolvePorts, resolveTarget } from '../port-forward';

/** Listens on `address:port`; rejects with CliError naming the port when it cannot. */
function listen(server: net.Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
      reject(new CliError(`unable to listen on port ${port} at ${address}: ${why}`));
    };
    server.once('error', onError);
    server.listen(port, address, () => {
      server.removeListener('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

const hostPort = (address: string, port: number): string => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/**
 * `mk port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT [...]`: listens on local ports and relays
 * each connection to the pod's port through its node agent over the bus
 * (messages/port-forward.ts), until SIGINT or SIGTERM (exit 0). One connection failing (the pod's
 * port refused it, either end reset it) is reported and the others go on; losing the pod's node
 * agent (its streams fall silent or it stops, nothing serves it for a new connection) or the bus
 * ends every connection and exits 1 with "lost connection to pod", as kubectl does.
 */
export default class PortForward extends MkCommand {
  static override summary = 'Forward one or more local ports to a pod';
  static override description = 'TYPE/NAME is pod/NAME (or NAME), deployment/NAME, rs/NAME or svc/NAME; a workload or service forwards to one of its running pods. '
    + 'REMOTE_PORT is a number or a container port name; for a service, its service port, mapped to the targetPort. '
    + 'An empty LOCAL_PORT (":80") picks a free one.';
  static override examples = [
    '<%= config.bin %> port-forward pod/web 8080:80',
    '<%= config.bin %> port-forward deployment/web :http',
    '<%= config.bin %> port-forward svc/web 8080:80 --address 127.0.0.1,::1',
  ];
  static override usage = 'port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT [...] [-n NAMESPACE] [--address ADDRESSES]';
  // Any number of port arguments follow the target.
  static override strict = false;
  static override args = {
    target: Args.string({ description: 'TYPE/NAME (pod/NAME, deployment/NAME, rs/NAME, svc/NAME) or a pod name', required: true }),
    ports: Args.string({ description: '[LOCAL_PORT:]REMOTE_PORT, one or more' }),
  };
  static override flags = {
    ...namespaceFlags,
    address: Flags.string({ description: 'addresses to listen on, comma-separated (IP addresses or localhost)', default: 'localhost' }),
  };

  /** Forwards until a signal; exits 1 on bad input or a port it cannot listen on. */
  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(PortForward);
    const portArgs = (argv as string[]).slice(1);
    if (portArgs.length === 0) throw new CliError('at least one port is required: mk port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT');
    const specs = portArgs.map(parsePortSpec);
    const addresses = [...new Set(flags.address.split(',').map((a) => a.trim()).map((a) => (a === 'localhost' ? '127.0.0.1' : a)))];
    for (const a of addresses) if (net.isIP(a) === 0) throw new CliError(`invalid address "${a}": use IP addresses or localhost`);
    const namespace = flags.namespace || 'default';
    await withClient(this.dataDir(flags['data-dir']), async ({ api, bus }) => {
      const target = await resolveTarget(api, bus, namespace, args.target);
      assertRunning(target.pod);
      const pairs = specs.map((s) => resolvePorts(target, s));
      const node = target.pod.spec.nodeName!;
      const pod = target.pod.metadata.name;
      const relays = new Set<RelayStream>();
      const servers: net.Server[] = [];
      let stopping = false;
      // Set once the stream to the pod is gone: the forward ends with an error.
      let lose!: (why: string) => void;
      const lost = new Promise<string>((r) => { lose = r; });
      void (async () => {
        for await (const st of bus.nc.status()) if (st.type === 'disconnect') lose(BUS_LOST);
      })().catch(() => undefined);
      void bus.nc.closed().then(() => lose(BUS_LOST));
      try {
        for (const pair of pairs) {
          let local = pair.local;
          for (const address of addresses) {
            const server = net.createServer({ allowHalfOpen: true }, (socket) => {
              this.out(`Handling connection for ${local}\n`);
              forwardConnection(bus, node, { namespace, pod, port: pair.remote }, socket).then((relay) => {
                relays.add(relay);
                void relay.done.then((reason) => {
                  relays.delete(relay);
                  // A local client hanging up is not an error; the pod's side failing is.
                  if (reason && reason !== SOCKET_CLOSED && !stopping) this.err(`error: an error occurred forwarding ${local} -> ${pair.remote}: ${reason}`);
                  if (isStreamLost(reason)) lose(reason!);
                });
              }, (err: unknown) => {
                if (stopping) return;
                this.err(`error: an error occurred forwarding ${local} -> ${pair.remote}: ${err instanceof Error ? err.message : String(err)}`);
                // Nothing serves the pod's node: its agent is gone.
                if (isNoResponders(err)) lose(`nothing serves port-forward on node ${node}`);
              });
            });
            servers.push(server);
            // Every address of one spec gets the same port, the first one picked when it was 0.
            local = await listen(server, address, local);
            this.out(`Forwarding from ${hostPort(address, local)} -> ${pair.remote}\n`);
          }
        }
      } catch (err) {
        for (const s of servers) s.close();
        throw err;
      }
      let onSignal!: () => void;
      const signalled = new Promise<undefined>((resolve) => { onSignal = () => resolve(undefined); });
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const why = await Promise.race([signalled, lost]);
      stopping = true;
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      for (const s of servers) s.close();
      for (const r of relays) r.close(why === undefined ? 'port-forward stopped' : `lost connection to pod: ${why}`);
      await Promise.all([...relays].map((r) => r.done));
      if (why !== undefined) throw new CliError(`lost connection to pod ${namespace}/${pod} on node ${node}: ${why}`);
    });
  }
}
