/**
 * The CLI's side of async function calls: requests to the gateways (results, dead letters, replay)
 * and their tables. The CLI never touches the async streams or the results bucket itself.
 */
import type { CoreBus } from '../bus/core-client';
import type { AsyncResult, DeadLetter, InvokeReply } from '../messages';
import { age } from '../messages/printing/time';
import { CliError } from './errors';
import { renderTable } from './output/tabwriter';

/** Waits this long for a gateway to answer a request about async calls (ms). */
const GATEWAY_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Sends `body` to a gateway on `subject` and returns its InvokeReply. Throws CliError when no
 * gateway answers, and with the gateway's error (status and message) for a 4xx or 5xx.
 */
export async function gatewayRequest(bus: CoreBus, subject: string, body: unknown, timeoutMs = GATEWAY_REQUEST_TIMEOUT_MS): Promise<InvokeReply> {
  let reply: InvokeReply;
  try {
    const msg = await bus.nc.request(subject, new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)), { timeout: timeoutMs });
    reply = JSON.parse(new TextDecoder().decode(msg.data)) as InvokeReply;
  } catch (err) {
    const text = (err as Error).message;
    if (/no responders|503/i.test(text)) throw new CliError(`nothing is serving ${subject}: is the function gateway running?`);
    throw new CliError(`${subject} failed: ${text}`);
  }
  if (reply.status >= 400) {
    const b = reply.body as { error?: string; trace?: string } | null;
    const message = b && typeof b.error === 'string' ? b.error : JSON.stringify(reply.body);
    throw new CliError(`Error (${reply.status}): ${message}${b?.trace ? `\n${b.trace.trimEnd()}` : ''}`);
  }
  return reply;
}

/** One line of a table cell: newlines folded, long text cut. */
const cell = (s: string, max = 60): string => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
};

/** `mk function result ID`'s table: ID, FUNCTION, STATUS, ATTEMPTS, AGE, then the result or error below. */
export function renderAsyncResult(r: AsyncResult, now = Date.now()): string {
  const table = renderTable(['ID', 'FUNCTION', 'STATUS', 'ATTEMPTS', 'AGE'], [[r.id, r.name, r.status, String(r.attempts), age(r.created, now)]]);
  const lines: string[] = [];
  if (r.status === 'Succeeded' || (r.status === 'Failed' && r.result !== undefined && r.code !== undefined && r.code < 500)) lines.push(`Result: ${JSON.stringify(r.result)}`);
  if (r.error && r.status !== 'Succeeded') lines.push(`Error: ${r.error}`);
  if (r.callback) lines.push(`Callback: ${r.callback.url} ${r.callback.status}${r.callback.error ? ` (${r.callback.error})` : ''}`);
  return table + lines.map((l) => `${l}\n`).join('');
}

/** `mk function dlq`'s table: ID, FUNCTION, ATTEMPTS, LAST ERROR, AGE (since it was given up). */
export function renderDeadLetters(items: DeadLetter[], now = Date.now()): string {
  return renderTable(['ID', 'FUNCTION', 'ATTEMPTS', 'LAST ERROR', 'AGE'],
    items.map((d) => [d.id, d.namespace === 'default' ? d.name : `${d.namespace}/${d.name}`, String(d.attempts), cell(d.lastError), age(d.failed, now)]));
}
