/**
 * The registry login for an image from the pod's imagePullSecrets, as kubelet's credential
 * keyring picks it (kubernetes/kubernetes pkg/credentialprovider): the secrets of type
 * kubernetes.io/dockerconfigjson (`{"auths": {server: login}}`) or kubernetes.io/dockercfg
 * (`{server: login}`), in order, and the first login whose server matches the image's registry.
 * https://kubernetes.io/docs/concepts/containers/images/#specifying-imagepullsecrets-on-a-pod
 */
import type { Secret } from '../../messages/config-data';
import type { AuthConfig } from '../cri/types';

const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * The registry host (with its port) an image reference pulls from: the first path component when
 * it looks like a host (has `.` or `:`, or is localhost), else Docker Hub, as Docker names images.
 */
export function imageRegistry(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return HUB_ALIASES.has(first) ? DOCKER_HUB : first;
  return DOCKER_HUB;
}

/** A login's server as a host (scheme and path dropped, Docker Hub's names made one). */
function serverHost(server: string): string {
  const host = server.replace(/^[a-z]+:\/\//i, '').split('/')[0].toLowerCase();
  return HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/** Whether a login for `pattern` (a host, or `*.domain` with one label per `*`) serves `host`. */
function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.includes('*')) return pattern === host;
  const [pHost, pPort] = pattern.split(':');
  const [hHost, hPort] = host.split(':');
  if (pPort !== hPort) return false;
  const p = pHost.split('.');
  const h = hHost.split('.');
  return p.length === h.length && p.every((label, i) => label === '*' || label === h[i]);
}

interface Login { username?: string; password?: string; auth?: string; email?: string; identitytoken?: string; registrytoken?: string }

/** The logins of one secret by server, or none for a secret of another type or unreadable JSON. */
function logins(secret: Secret): Record<string, Login> {
  const type = secret.type ?? 'Opaque';
  const key = type === 'kubernetes.io/dockerconfigjson' ? '.dockerconfigjson' : type === 'kubernetes.io/dockercfg' ? '.dockercfg' : undefined;
  const raw = key ? secret.data?.[key] : undefined;
  if (!raw) return {};
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Record<string, unknown>;
    const map = (key === '.dockerconfigjson' ? parsed.auths : parsed) as Record<string, Login> | undefined;
    return map && typeof map === 'object' ? map : {};
  } catch {
    return {};
  }
}

/**
 * The login to pull `image` with, from `secrets` in the pod's order; undefined when none has a
 * login for its registry. A login given only as `auth` (base64 of `user:password`) is split.
 */
export function pullAuth(image: string, secrets: readonly Secret[]): AuthConfig | undefined {
  const host = imageRegistry(image);
  for (const s of secrets) {
    for (const [server, login] of Object.entries(logins(s))) {
      if (!login || typeof login !== 'object' || !hostMatches(serverHost(server), host)) continue;
      let { username, password } = login;
      if ((username === undefined || password === undefined) && login.auth) {
        const decoded = Buffer.from(login.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) { username ??= decoded.slice(0, colon); password ??= decoded.slice(colon + 1); }
      }
      return {
        serverAddress: host,
        ...(username !== undefined ? { username } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(login.auth ? { auth: login.auth } : {}),
        ...(login.identitytoken ? { identityToken: login.identitytoken } : {}),
        ...(login.registrytoken ? { registryToken: login.registrytoken } : {}),
      };
    }
  }
  return undefined;
}
