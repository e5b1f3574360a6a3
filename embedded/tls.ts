/**
 * The embedded cluster's TLS: a CA of its own and a certificate for nats-server, made once by
 * `mk up` and kept in `<data-dir>/tls/` (private keys 0600); and the CA's fingerprint in
 * kubeadm's form (`sha256:<hex>` of the CA's SubjectPublicKeyInfo, see
 * https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-join/#token-based-discovery-with-ca-pinning),
 * which lets a joining machine trust only its own cluster.
 *
 * Keys are made by Node's crypto (P-256); certificates are signed by the machine's `openssl`
 * (OpenSSL 3, Debian's `openssl` package), called with argument arrays and config files of our
 * own, so neither the system's openssl.cnf nor a shell is involved. Node's X509Certificate reads
 * them back to check names, validity and fingerprints.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterError } from './errors';
import { writeSecretFile } from './context';

/** Where a cluster keeps its TLS files. */
export interface TlsPaths {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** The server certificate followed by the CA: what nats-server sends, so a joiner sees the CA. */
  serverChain: string;
}

/** The TLS files under `dataDir/tls`. */
export function tlsPaths(dataDir: string): TlsPaths {
  const dir = path.join(dataDir, 'tls');
  return {
    dir,
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    serverCert: path.join(dir, 'server.crt'),
    serverKey: path.join(dir, 'server.key'),
    serverChain: path.join(dir, 'server-chain.crt'),
  };
}

/** The CA lives ten years, the server certificate one (kubeadm's choices); renewed 30 days ahead. */
const CA_DAYS = 3650;
const SERVER_DAYS = 365;
const RENEW_BEFORE_MS = 30 * 24 * 3600_000;

/** The names every server certificate carries: what local clients dial. */
export const LOCAL_SANS = ['127.0.0.1', 'localhost'];

/**
 * Makes the CA (once) and a server certificate whose names cover `LOCAL_SANS` plus `extraSans`
 * (the advertise address); the server certificate is made again when a name is missing or it
 * expires within 30 days. Returns the paths. Throws ClusterError when openssl is missing or fails.
 */
export function ensureClusterTls(dataDir: string, extraSans: string[] = []): TlsPaths {
  const p = tlsPaths(dataDir);
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const sans = [...new Set([...LOCAL_SANS, ...extraSans])];
  let newCa = false;
  if (!fs.existsSync(p.caCert) || !fs.existsSync(p.caKey)) {
    writeSecretFile(p.caKey, newKey());
    openssl(['req', '-x509', '-new', '-key', p.caKey, '-sha256', '-days', String(CA_DAYS), '-out', p.caCert], caConfig());
    newCa = true;
  }
  if (newCa || !serverCertCovers(p, sans)) {
    writeSecretFile(p.serverKey, newKey());
    const csr = openssl(['req', '-new', '-key', p.serverKey], serverConfig(sans));
    openssl(['x509', '-req', '-CA', p.caCert, '-CAkey', p.caKey, '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-days', String(SERVER_DAYS), '-sha256', '-extensions', 'ext', '-out', p.serverCert], serverConfig(sans), csr, '-extfile');
  }
  fs.writeFileSync(p.serverChain, fs.readFileSync(p.serverCert, 'utf8') + fs.readFileSync(p.caCert, 'utf8'), { mode: 0o644 });
  return p;
}

/** True when the server certificate exists, is signed by the CA, names every one of `sans`, and is not about to expire. */
function serverCertCovers(p: TlsPaths, sans: string[]): boolean {
  if (!fs.existsSync(p.serverCert) || !fs.existsSync(p.serverKey)) return false;
  try {
    const cert = new X509Certificate(fs.readFileSync(p.serverCert));
    const ca = new X509Certificate(fs.readFileSync(p.caCert));
    if (!cert.verify(ca.publicKey)) return false;
    if (new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_MS) return false;
    const names = (cert.subjectAltName ?? '').split(', ');
    return sans.every((s) => names.includes(net.isIP(s) ? `IP Address:${s}` : `DNS:${s}`));
  } catch {
    return false;
  }
}

/** A new P-256 private key, PKCS#8 PEM. */
function newKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function caConfig(): string {
  return [
    '[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = ext',
    '[dn]', 'CN = mk-ca',
    '[ext]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash', '',
  ].join('\n');
}

function serverConfig(sans: string[]): string {
  const alt = sans.map((s) => (net.isIP(s) ? `IP:${s}` : `DNS:${s}`)).join(',');
  return [
    '[req]', 'distinguished_name = dn', 'prompt = no',
    '[dn]', 'CN = mk-nats',
    '[ext]', 'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage = serverAuth', `subjectAltName = ${alt}`, 'authorityKeyIdentifier = keyid', '',
  ].join('\n');
}

/**
 * Runs openssl with `config` in a temp file (passed as `-config`, or as `configFlag`), `input` on
 * stdin; returns stdout. Throws ClusterError with openssl's message on failure.
 */
function openssl(args: string[], config: string, input?: string, configFlag = '-config'): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-tls-'));
  try {
    const cnf = path.join(tmp, 'openssl.cnf');
    fs.writeFileSync(cnf, config);
    return execFileSync('openssl', [...args, configFlag, cnf], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new ClusterError('openssl not found: install it (apt-get install openssl); mk makes its certificates with it');
    throw new ClusterError(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** kubeadm's CA pin: `sha256:` and the hex SHA-256 of the certificate's DER SubjectPublicKeyInfo. */
export function caCertHash(cert: string | Buffer | X509Certificate): string {
  const x = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  const spki = x.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** Checks a `--ca-cert-hash` value; returns it in lower case. Throws ClusterError naming the problem. */
export function parseCaCertHash(value: string): string {
  const m = /^sha256:([0-9a-fA-F]{64})$/.exec(value.trim());
  if (!m) throw new ClusterError(`invalid --ca-cert-hash "${value}": expected sha256: and 64 hex digits (mk token create --print-join-command prints it)`);
  return `sha256:${m[1].toLowerCase()}`;
}
