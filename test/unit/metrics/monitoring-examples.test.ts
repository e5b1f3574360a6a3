/**
 * examples/monitoring against docs/metrics.md: every metric the Grafana dashboard queries is
 * documented, every documented mk metric that mk itself defines is really registered by the
 * modules that define them, and the Prometheus config reads the targets file `mk up` writes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import yaml from 'js-yaml';
import { register } from 'prom-client';
import '../../../actors/api/metrics';
import '../../../actors/pod/metrics';
import '../../../actors/scheduler/metrics';
import '../../../bus/metrics';
import '../../../node-agent/cri/metrics';
import '../../../node-agent/dns/metrics';
import { PROMETHEUS_TARGETS_FILE } from '../../../embedded/metrics-endpoints';
import { hasPromtool } from '../../helpers/prom-text';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const doc = fs.readFileSync(path.join(ROOT, 'docs', 'metrics.md'), 'utf8');
const documented = new Set([...doc.matchAll(/`(mk_[a-z0-9_]+)`/g)].map((m) => m[1]));
const base = (name: string): string => name.replace(/_(bucket|sum|count)$/, '');

describe('examples/monitoring', () => {
  it('the dashboard parses and queries only documented metrics', () => {
    const dash = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'monitoring', 'grafana-dashboard.json'), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exprs = dash.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThan(20);
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(mk_[a-z0-9_]+)\b/g)].map((m) => base(m[1]))));
    const undocumented = [...used].filter((n) => !documented.has(n) && n !== 'mk_process');
    expect(undocumented).toEqual([]);
    for (const n of ['mk_api_request_duration_seconds', 'mk_watch_lag_seconds', 'mk_pod_start_duration_seconds', 'mk_cri_request_duration_seconds', 'mk_actor_mailbox_depth']) {
      expect(used.has(n)).toBe(true);
    }
  });

  // Only where promtool is installed: it parses PromQL (as recording rules) and the scrape config.
  (hasPromtool() ? it : it.skip)('promtool finds the dashboard\'s queries and the Prometheus config valid', () => {
    const dash = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'monitoring', 'grafana-dashboard.json'), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    // Grafana's variables, as Grafana would fill them in.
    const exprs = dash.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$mk_process', '.*'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-promtool-'));
    try {
      const rules = path.join(dir, 'rules.yml');
      fs.writeFileSync(rules, yaml.dump({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `mk:dashboard:${i}`, expr })) }] }));
      const r = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`).toContain(`SUCCESS: ${exprs.length} rules found`);
      const c = spawnSync('promtool', ['check', 'config', path.join(ROOT, 'examples', 'monitoring', 'prometheus.yml')], { encoding: 'utf8' });
      expect(c.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('documents every metric mk defines, with its help text registered', () => {
    const defined = register.getMetricsAsArray().map((m) => m.name).filter((n) => n.startsWith('mk_'));
    expect(defined.length).toBeGreaterThanOrEqual(14);
    expect(defined.filter((n) => !documented.has(n))).toEqual([]);
  });

  it('the Prometheus config reads the targets file mk up writes', () => {
    const conf = yaml.load(fs.readFileSync(path.join(ROOT, 'examples', 'monitoring', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; file_sd_configs: { files: string[] }[] }[];
    };
    const files = conf.scrape_configs.flatMap((s) => s.file_sd_configs.flatMap((f) => f.files));
    expect(files.some((f) => path.basename(f) === PROMETHEUS_TARGETS_FILE)).toBe(true);
  });
});
