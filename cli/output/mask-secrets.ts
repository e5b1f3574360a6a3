/**
 * `mk diff`'s masking of Secrets, as kubectl diff's Masker does (kubectl pkg/cmd/diff/diff.go):
 * each value of data and stringData becomes `***`, or `*** (before)` and `*** (after)` when the
 * two sides differ, so a diff shows which keys change without showing a value. The last applied
 * configuration, which holds the values apply sent, is masked the same way.
 */
import { LAST_APPLIED_ANNOTATION, type KubeObject } from '../../messages';

type Values = Record<string, string> | undefined;

function maskMaps(before: Values, after: Values): [Values, Values] {
  const b: Record<string, string> = {};
  const a: Record<string, string> = {};
  for (const k of Object.keys(before ?? {})) b[k] = '***';
  for (const k of Object.keys(after ?? {})) a[k] = '***';
  for (const k of Object.keys(b)) {
    if (k in a && before![k] !== after![k]) {
      b[k] = '*** (before)';
      a[k] = '*** (after)';
    }
  }
  return [before ? b : undefined, after ? a : undefined];
}

function withMasked(o: KubeObject | undefined, data: Values, stringData: Values, applied: string | undefined): KubeObject | undefined {
  if (!o) return o;
  const out = { ...o } as KubeObject & { data?: Values; stringData?: Values };
  if (data) out.data = data;
  if (stringData) out.stringData = stringData;
  if (applied !== undefined) out.metadata = { ...o.metadata, annotations: { ...o.metadata.annotations, [LAST_APPLIED_ANNOTATION]: applied } };
  return out;
}

/**
 * `live` and `merged` (either absent: no such side) with their Secret values masked; objects of
 * other kinds are returned as they are. Never edits its arguments.
 */
export function maskSecrets(live: KubeObject | undefined, merged: KubeObject | undefined): [KubeObject | undefined, KubeObject | undefined] {
  if ((live ?? merged)?.kind !== 'Secret') return [live, merged];
  type S = KubeObject & { data?: Values; stringData?: Values };
  const [l, m] = [live as S | undefined, merged as S | undefined];
  const [ld, md] = maskMaps(l?.data, m?.data);
  const [ls, ms] = maskMaps(l?.stringData, m?.stringData);
  const la = l?.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  const ma = m?.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  const [lam, mam] = la !== undefined && ma !== undefined && la !== ma ? ['*** (before)', '*** (after)'] : [la && '***', ma && '***'];
  return [withMasked(live, ld, ls, lam), withMasked(merged, md, ms, mam)];
}
