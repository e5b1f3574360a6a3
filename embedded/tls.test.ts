import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { caCertHash, ensureClusterTls, parseCaCertHash } from './tls';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-tls-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

describe('ensureClusterTls', () => {
  it('makes a CA and a server certificate for loopback and the advertise address, keys 0600', () => {
    const p = ensureClusterTls(dir, ['10.1.2.3']);
    for (const key of [p.caKey, p.serverKey]) expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    const ca = new X509Certificate(fs.readFileSync(p.caCert));
    const server = new X509Certificate(fs.readFileSync(p.serverCert));
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName?.split(', ').sort()).toEqual(['DNS:localhost', 'IP Address:10.1.2.3', 'IP Address:127.0.0.1']);
    expect(execFileSync('openssl', ['verify', '-CAfile', p.caCert, p.serverCert]).toString()).toContain('OK');
    expect(fs.readFileSync(p.serverChain, 'utf8')).toBe(fs.readFileSync(p.serverCert, 'utf8') + fs.readFileSync(p.caCert, 'utf8'));
  });

  it('keeps the CA, and the server certificate while its names suffice', () => {
    const p = ensureClusterTls(dir, ['10.1.2.3']);
    const ca = fs.readFileSync(p.caCert, 'utf8');
    const server = fs.readFileSync(p.serverCert, 'utf8');
    ensureClusterTls(dir, ['10.1.2.3']);
    ensureClusterTls(dir);
    expect(fs.readFileSync(p.serverCert, 'utf8')).toBe(server);
    ensureClusterTls(dir, ['192.168.7.1']);
    expect(fs.readFileSync(p.caCert, 'utf8')).toBe(ca);
    const renewed = new X509Certificate(fs.readFileSync(p.serverCert));
    expect(renewed.subjectAltName).toContain('IP Address:192.168.7.1');
    expect(renewed.verify(new X509Certificate(ca).publicKey)).toBe(true);
  });
});

describe('caCertHash', () => {
  it('is the SHA-256 of the DER SubjectPublicKeyInfo, as openssl computes it', () => {
    const p = ensureClusterTls(dir);
    const der = execFileSync('openssl', ['x509', '-in', p.caCert, '-noout', '-pubkey']);
    const spki = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: der });
    expect(caCertHash(fs.readFileSync(p.caCert))).toBe(`sha256:${createHash('sha256').update(spki).digest('hex')}`);
    expect(caCertHash(fs.readFileSync(p.caCert))).not.toBe(caCertHash(fs.readFileSync(p.serverCert)));
  });

  it('parses only sha256: and 64 hex digits', () => {
    const hex = 'AB'.repeat(32);
    expect(parseCaCertHash(`sha256:${hex}`)).toBe(`sha256:${hex.toLowerCase()}`);
    expect(() => parseCaCertHash(hex)).toThrow(/invalid --ca-cert-hash .*expected sha256: and 64 hex digits/);
    expect(() => parseCaCertHash('sha256:abc')).toThrow(/invalid --ca-cert-hash/);
    expect(() => parseCaCertHash(`md5:${hex}`)).toThrow(/invalid --ca-cert-hash/);
  });
});
