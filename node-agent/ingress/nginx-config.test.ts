import type { Ingress } from '../../messages/ingress';
import { nginxConfig, quote } from './nginx-config';
import { RouteTable } from './routes';
import { ingressOf as ingress } from './test-fixtures';


const gen = (ings: Ingress[], extra: Partial<Parameters<typeof nginxConfig>[0]> = {}) => nginxConfig({
  routes: new RouteTable(ings), dir: '/var/lib/mk/node/ingress-nginx', port: 8080,
  upstreams: (t) => (t.service === 'empty' ? { reason: `service "${t.namespace}/${t.service}" has no ready endpoints` } : [{ host: '10.244.1.5', port: 8080 }]),
  ...extra,
});

describe('nginxConfig', () => {
  it('writes an exact host, a one-label wildcard regex and a default server', () => {
    const { text, skipped } = gen([ingress([
      { host: 'a.example.com', paths: [{ path: '/' }] },
      { host: '*.example.com', paths: [{ path: '/' }] },
      { paths: [{ path: '/api', to: 'api' }] },
    ])]);
    expect(skipped).toEqual([]);
    expect(text).toContain('server_name "a.example.com";');
    expect(text).toContain('server_name "~^[^.]+\\.example\\.com$";');
    expect(text).toMatch(/listen 0\.0\.0\.0:8080 default_server;/);
    expect(text).toContain('location = "/api" { proxy_pass "http://mk_default_api_80/api"; }');
    expect(text).toContain('location ^~ "/api/" { proxy_pass "http://mk_default_api_80/api/"; }');
    // The host-less server's other paths: 404 with the in-process proxy's text.
    expect(text).toContain('location ^~ "/" { default_type "text/plain; charset=utf-8"; return 404 "no ingress rule matches this host and path\\n"; }');
    expect(text).toMatch(/upstream mk_default_web_80 \{\n {4}server 10\.244\.1\.5:8080 max_fails=0;\n {4}keepalive 64;/);
  });

  it('keeps Exact over Prefix on the same path, sends the rest to the default backend, and 503s an empty backend', () => {
    const { text } = gen([ingress([{ paths: [{ path: '/foo', to: 'prefix' }, { path: '/foo', type: 'Exact', to: 'exact' }, { path: '/e', to: 'empty' }] }], 'fallback')]);
    expect(text).toContain('location = "/foo" { proxy_pass "http://mk_default_exact_80/foo"; }');
    expect(text).toContain('location ^~ "/foo/" { proxy_pass "http://mk_default_prefix_80/foo/"; }');
    expect(text).toContain('location ^~ "/" { proxy_pass "http://mk_default_fallback_80/"; }');
    expect(text).toContain('return 503 "service \\"default/empty\\" has no ready endpoints\\n";');
  });

  it.each([
    ['a quote and a brace', '/x"; } server { listen 81; location / {'],
    ['a semicolon', '/a;b'],
    ['a newline', '/a\nb'],
    ['a variable', '/$host'],
    ['a backslash', '/a\\"'],
    ['a space', '/a b'],
    ['an encoded quote', '/a%22b'],
    ['an encoded semicolon', '/a%3Bb'],
    ['an encoded brace', '/a%7Bb'],
    ['an encoded newline', '/a%0Ab'],
    ['an encoded variable', '/a%24host'],
    ['an encoded slash', '/a%2Fb'],
    ['an encoded unreserved character', '/%7Efoo'],
    ['a lower-case encoding', '/caf%c3%a9'],
    ['an encoding that is not UTF-8', '/a%FF'],
  ])('leaves out a path with %s, naming it', (_what, path) => {
    const { text, skipped } = gen([ingress([{ paths: [{ path, type: 'Exact' }, { path: '/ok' }] }])]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toContain(JSON.stringify(path));
    expect(text).not.toContain(path);
    expect(text).toContain('location = "/ok"');
    // Braces balance: nothing opened or closed a block it should not.
    expect(text.split('{').length).toBe(text.split('}').length);
  });

  it('names a percent-encoded path decoded, as nginx matches it, and forwards it encoded', () => {
    const { text, skipped } = gen([ingress([{ paths: [{ path: '/a%20b', type: 'Exact' }, { path: '/caf%C3%A9' }] }])]);
    expect(skipped).toEqual([]);
    expect(text).toContain('location = "/a b" { proxy_pass "http://mk_default_web_80/a%20b"; }');
    expect(text).toContain('location ^~ "/café/" { proxy_pass "http://mk_default_web_80/caf%C3%A9/"; }');
  });

  it('leaves out hosts and backends that are no plain names', () => {
    const { text, skipped } = gen([ingress([
      { host: 'a.com"; include /etc/passwd; #', paths: [{ path: '/' }] },
      { host: '*.b.com;', paths: [{ path: '/' }] },
      { host: 'c.com', paths: [{ path: '/', to: 'svc;x' }, { path: '/p', port: { name: 'h{t}' } }] },
    ])]);
    expect(skipped).toHaveLength(4);
    expect(text).not.toMatch(/passwd|b\\\.com;|svc;x|h\{t\}/);
  });

  it('refuses a bad directory, address or port, and never quotes what could end a directive', () => {
    expect(() => gen([], { dir: '/tmp/a b' })).toThrow(/nginx directory/);
    expect(() => gen([], { host: '0.0.0.0; user root' })).toThrow(/not an IPv4 address/);
    expect(() => gen([], { port: 0 })).toThrow(/between 1 and 65535/);
    for (const bad of ['a;b', 'a{', '$x', 'a\nb', 'a\\b']) expect(() => quote(bad)).toThrow(/refusing/);
    expect(quote('say "hi"')).toBe('"say \\"hi\\""');
  });

  it('sets the workers, the timeouts and the access log when asked', () => {
    const { text } = gen([], { workers: 'auto', accessLog: true, upstreamTimeoutMs: 500, connectTimeoutMs: 200 });
    expect(text).toContain('worker_processes auto;');
    expect(text).toContain('access_log "/var/lib/mk/node/ingress-nginx/access.log";');
    expect(text).toContain('proxy_read_timeout 500ms;');
    expect(text).toContain('proxy_connect_timeout 200ms;');
    expect(gen([]).text).toContain('access_log off;');
  });
});
