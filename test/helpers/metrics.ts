/**
 * Reading an mk process's `/metrics` in tests: one scrape, parsed strictly (prom-text.ts) and,
 * where promtool is installed, checked by it too.
 */
import * as http from 'node:http';
import { hasPromtool, parsePromText, promtoolCheck, type PromFamily } from './prom-text';

/** The body of GET `url` (a status other than 200 is an error naming it). */
export function httpGet(url: string, timeoutMs = 5_000): Promise<{ type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode} ${body}`));
        else resolve({ type: res.headers['content-type'], body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

let promtool: boolean | undefined;

/**
 * Scrapes `url` and parses the exposition; throws when it breaks the format (and, when promtool
 * is on the machine, when `promtool check metrics` complains).
 */
export async function scrape(url: string): Promise<Map<string, PromFamily>> {
  const { body } = await httpGet(url);
  const families = parsePromText(body);
  promtool ??= hasPromtool();
  if (promtool) {
    const complaints = promtoolCheck(body);
    if (complaints) throw new Error(`promtool check metrics on ${url}:\n${complaints}`);
  }
  return families;
}
