/**
 * Joining a machine to a cluster, the joining half (`mk node-agent --join URL --token T
 * --ca-cert-hash sha256:H`), as kubeadm join does with token discovery and CA pinning:
 *
 * 1. read the server's certificate chain over TLS without trusting it yet, take the CA at its
 *    end, and check its public key's SHA-256 against --ca-cert-hash (a mismatch stops here);
 * 2. from then on trust only that CA: connect as the public join identity and ask mk.join with
 *    the token, the node name and a fresh nkey's public half;
 * 3. on success only, write the CA, the nkey seed (0600) and a context to the data directory,
 *    and wait until the server accepts the nkey (it reloads its config).
 *
 * A refused join writes nothing.
 */
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { nkeys } from '@nats-io/transport-node';
import { connectCore, request } from '../bus/core-client';
import { dns1123LabelError, JOIN_SUBJECT, type JoinRequest, type JoinResult } from '../messages';
import { busAuth, writeContext, writeSecretFile, type Context } from './context';
import { ClusterError } from './errors';
import { JOIN_PASSWORD, JOIN_USER } from './permissions';
import { caCertHash, parseCaCertHash } from './tls';
import { parseToken, TokenError } from './tokens';

/** What joining needs. */
export interface JoinOptions {
  /** `nats://HOST:PORT` of the cluster's bus. */
  url: string;
  token: string;
  /** `sha256:<hex>` of the cluster CA's public key. */
  caCertHash: string;
  nodeName: string;
  /** This machine's data directory: the context, CA and seed go there. */
  dataDir: string;
  /** Per network step, ms (default 10 s). */
  timeoutMs?: number;
}

/** The files a joined node keeps in its data directory. */
export function joinFiles(dataDir: string): { caFile: string; nkeyFile: string } {
  return { caFile: path.join(dataDir, 'tls', 'ca.crt'), nkeyFile: path.join(dataDir, 'node.nkey') };
}

/** Splits `nats://host:port` (port 4222 by default); throws ClusterError for anything else. */
export function parseJoinUrl(url: string): { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ClusterError(`invalid --join "${url}": expected nats://HOST:PORT`);
  }
  if ((u.protocol !== 'nats:' && u.protocol !== 'tls:') || !u.hostname) throw new ClusterError(`invalid --join "${url}": expected nats://HOST:PORT`);
  if (u.username || u.password || (u.pathname && u.pathname !== '/')) throw new ClusterError(`invalid --join "${url}": give only nats://HOST:PORT`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 4222 };
}

/**
 * Reads the certificate chain a nats-server presents, without verifying it, and returns the CA
 * at its end (PEM) and the server's certificate. NATS sends its INFO line in clear first, then
 * the client upgrades the socket to TLS. Throws ClusterError when nothing answers, the server has
 * no TLS, or it sends no CA.
 */
export async function fetchServerChain(host: string, port: number, timeoutMs = 10_000): Promise<{ ca: X509Certificate; leaf: X509Certificate }> {
  const where = `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let secure: tls.TLSSocket | undefined;
    const timer = setTimeout(() => fail(`no TLS answer from ${where} within ${timeoutMs} ms`), timeoutMs);
    const fail = (msg: string): void => {
      clearTimeout(timer);
      secure?.destroy();
      sock.destroy();
      reject(new ClusterError(msg));
    };
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return;
      sock.off('data', onData);
      const line = buf.slice(0, nl);
      if (!line.startsWith('INFO ')) return fail(`${where} is not a NATS server`);
      let info: { tls_required?: boolean };
      try {
        info = JSON.parse(line.slice(5)) as { tls_required?: boolean };
      } catch {
        return fail(`${where} sent a malformed INFO`);
      }
      if (!info.tls_required) return fail(`the bus at ${where} does not use TLS: it is not a mk cluster that can be joined`);
      // Trust nothing yet: the chain is checked against the pinned hash by the caller.
      secure = tls.connect({ socket: sock, rejectUnauthorized: false, ...(net.isIP(host) ? {} : { servername: host }) });
      secure.once('secureConnect', () => {
        const leafPeer = secure!.getPeerCertificate(true);
        let c: tls.DetailedPeerCertificate = leafPeer;
        while (c.issuerCertificate && c.issuerCertificate.fingerprint256 !== c.fingerprint256) c = c.issuerCertificate;
        clearTimeout(timer);
        secure!.destroy();
        if (!leafPeer.raw) return reject(new ClusterError(`${where} sent no certificate`));
        const leaf = new X509Certificate(leafPeer.raw);
        const ca = new X509Certificate(c.raw);
        if (!ca.ca || c === leafPeer) return reject(new ClusterError(`${where} did not send its CA certificate with its own`));
        resolve({ ca, leaf });
      });
      secure.once('error', (err) => fail(`TLS with ${where} failed: ${err.message}`));
    };
    sock.on('data', onData);
    sock.once('error', (err) => fail(`cannot reach the bus at ${where}: ${err.message}`));
    // After an answer this settles nothing: the promise is settled already.
    sock.once('close', () => fail(`the bus at ${where} closed the connection before TLS`));
  });
}

/**
 * Joins the cluster at `opts.url` as node `opts.nodeName` and returns the context written to
 * `opts.dataDir`. Throws ClusterError for bad flags or a CA that does not match the pin, the
 * server's ForbiddenError for a wrong or expired token, AlreadyExistsError for a taken name;
 * nothing is written in those cases.
 */
export async function joinCluster(opts: JoinOptions): Promise<Context> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const { host, port } = parseJoinUrl(opts.url);
  try {
    parseToken(opts.token);
  } catch (err) {
    throw new ClusterError(`invalid --token: ${(err as TokenError).message.replace(/^invalid token: /, '')}`);
  }
  const pin = parseCaCertHash(opts.caCertHash);
  const bad = dns1123LabelError(opts.nodeName);
  if (bad) throw new ClusterError(`invalid node name "${opts.nodeName}": ${bad}`);

  const { ca, leaf } = await fetchServerChain(host, port, timeoutMs);
  const got = caCertHash(ca);
  if (got !== pin) {
    throw new ClusterError(`the CA of the bus at ${host}:${port} has hash ${got}, not ${pin}: refusing to join (wrong cluster, or something in between)`);
  }
  if (!leaf.verify(ca.publicKey)) throw new ClusterError(`the certificate of ${host}:${port} is not signed by its CA: refusing to join`);
  const caPem = ca.toString();
  const servers = [`nats://${net.isIPv6(host) ? `[${host}]` : host}:${port}`];

  const kp = nkeys.createUser();
  const seed = new TextDecoder().decode(kp.getSeed());
  const bus = await connectCore({ servers, user: JOIN_USER, pass: JOIN_PASSWORD, caPem, name: `mk-join-${opts.nodeName}`, timeoutMs });
  try {
    const req: JoinRequest = { token: opts.token, nodeName: opts.nodeName, publicKey: kp.getPublicKey() };
    await request<JoinResult>(bus, JOIN_SUBJECT, req, { timeoutMs });
  } finally {
    await bus.close();
  }

  const files = joinFiles(opts.dataDir);
  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  writeSecretFile(files.nkeyFile, `${seed}\n`);
  fs.mkdirSync(path.dirname(files.caFile), { recursive: true, mode: 0o700 });
  fs.writeFileSync(files.caFile, caPem, { mode: 0o644 });
  const ctx: Context = { servers, nodeName: opts.nodeName, caFile: files.caFile, nkeyFile: files.nkeyFile };
  writeContext(opts.dataDir, ctx);
  await waitAccepted(ctx, timeoutMs);
  return ctx;
}

/** Waits until the server accepts the node's nkey (it reloads its config after mk.join answers). */
async function waitAccepted(ctx: Context, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const bus = await connectCore({ ...busAuth(ctx), name: `mk-node-${ctx.nodeName}`, timeoutMs: 2000 });
      await bus.close();
      return;
    } catch (err) {
      if (Date.now() >= deadline) throw new ClusterError(`joined, but the bus did not accept this node's key within ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
