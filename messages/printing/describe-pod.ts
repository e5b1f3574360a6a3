/**
 * `mk describe pod`: the sections and wording of kubectl's PodDescriber
 * (kubernetes/kubectl pkg/describe/describe.go: describePod, describeContainers, describeStatus).
 */
import { envFromLines, envValueText } from './env-text';
import type { Container, ContainerState, ContainerStatus, Pod } from '../pod';
import { qosClass } from '../qos';
import type { Probe } from '../probe';
import { probeTiming } from '../probe-timing';
import { formatSelector } from '../label-selector';
import type { Toleration } from '../scheduling';
import type { TopologySpreadConstraint } from '../topology-spread';
import { writeMounts, writeVolumes } from './describe-volumes';
import { describeTime, DescribeWriter, writeAnnotations, writeEvents, writeLabels, type EventLike } from './describe-writer';
import { age, humanDuration } from './time';

/** Describes a pod; `events` are the pod's events, or undefined when none could be listed. */
export function describePod(pod: Pod, events?: EventLike[], now: number = Date.now()): string {
  const w = new DescribeWriter();
  const st = pod.status ?? {};
  const md = pod.metadata;
  w.write(0, `Name:\t${md.name}\n`);
  w.write(0, `Namespace:\t${md.namespace ?? 'default'}\n`);
  w.write(0, `Node:\t${pod.spec.nodeName ? `${pod.spec.nodeName}/${st.hostIP ?? ''}` : '<none>'}\n`);
  if (st.startTime) w.write(0, `Start Time:\t${describeTime(st.startTime)}\n`);
  writeLabels(w, 'Labels', md.labels);
  writeAnnotations(w, 'Annotations', md.annotations);
  if (md.deletionTimestamp && st.phase !== 'Failed' && st.phase !== 'Succeeded') {
    const left = Date.parse(md.deletionTimestamp) - now;
    w.write(0, `Status:\tTerminating (lasts ${humanDuration(left)})\n`);
    if (md.deletionGracePeriodSeconds !== undefined) w.write(0, `Termination Grace Period:\t${md.deletionGracePeriodSeconds}s\n`);
  } else {
    w.write(0, `Status:\t${st.phase ?? ''}\n`);
  }
  if (st.reason) w.write(0, `Reason:\t${st.reason}\n`);
  if (st.message) w.write(0, `Message:\t${st.message}\n`);
  w.write(0, `IP:\t${st.podIP ?? ''}\n`);
  const ips = st.podIPs?.length ? st.podIPs.map((p) => p.ip) : st.podIP ? [st.podIP] : [];
  if (ips.length === 0) {
    w.write(0, 'IPs:\t<none>\n');
  } else {
    w.write(0, 'IPs:\n');
    for (const ip of ips) w.write(1, `IP:\t${ip}\n`);
  }
  const owner = md.ownerReferences?.find((o) => o.controller);
  if (owner) w.write(0, `Controlled By:\t${owner.kind}/${owner.name}\n`);
  if (pod.spec.initContainers?.length) {
    writeContainers(w, 'Init Containers', pod.spec.initContainers, st.initContainerStatuses ?? []);
  }
  writeContainers(w, 'Containers', pod.spec.containers, st.containerStatuses ?? []);
  if (st.conditions?.length) {
    w.write(0, 'Conditions:\n  Type\tStatus\n');
    for (const c of st.conditions) w.write(1, `${c.type} \t${c.status} \n`);
  }
  writeVolumes(w, 0, pod.spec.volumes);
  w.write(0, `QoS Class:\t${st.qosClass ?? qosClass(pod.spec)}\n`);
  writeLabels(w, 'Node-Selectors', pod.spec.nodeSelector);
  writeTolerations(w, pod.spec.tolerations);
  writeSpreadConstraints(w, pod.spec.topologySpreadConstraints);
  writeEvents(w, events, (ts) => age(ts, now));
  return w.toString();
}

/**
 * kubectl's printTolerationsMultiline: `key=value:Effect op=Exists for 300s`, one a line, or
 * `<none>`.
 */
function writeTolerations(w: DescribeWriter, tolerations: Toleration[] | undefined): void {
  w.write(0, 'Tolerations:\t');
  if (!tolerations?.length) {
    w.writeRaw('<none>\n');
    return;
  }
  tolerations.forEach((t, i) => {
    if (i > 0) w.write(0, '\t');
    let text = `${t.key ?? ''}${t.value ? `=${t.value}` : ''}${t.effect ? `:${t.effect}` : ''}`;
    if (t.operator === 'Exists' && !t.value) text += t.key || t.effect ? ' op=Exists' : 'op=Exists';
    if (t.tolerationSeconds !== undefined) text += ` for ${t.tolerationSeconds}s`;
    w.writeRaw(`${text}\n`);
  });
}

/**
 * kubectl's topology spread lines, only for a pod that has constraints:
 * `zone:DoNotSchedule when max skew 1 is exceeded for selector app=web`, one a line.
 */
function writeSpreadConstraints(w: DescribeWriter, constraints: TopologySpreadConstraint[] | undefined): void {
  if (!constraints?.length) return;
  constraints.forEach((c, i) => {
    w.write(0, i === 0 ? 'Topology Spread Constraints:\t' : '\t');
    const selector = c.labelSelector ? ` for selector ${formatSelector(c.labelSelector)}` : '';
    w.writeRaw(`${c.topologyKey}:${c.whenUnsatisfiable} when max skew ${c.maxSkew} is exceeded${selector}\n`);
  });
}

function writeContainers(w: DescribeWriter, label: string, containers: Container[], statuses: ContainerStatus[]): void {
  w.write(0, `${label}:\n`);
  for (const c of containers) {
    const status = statuses.find((s) => s.name === c.name);
    w.write(1, `${c.name}:\n`);
    if (status) w.write(2, `Container ID:\t${status.containerID ?? ''}\n`);
    w.write(2, `Image:\t${c.image}\n`);
    if (status) w.write(2, `Image ID:\t${status.imageID ?? ''}\n`);
    const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ');
    w.write(2, ports.includes(',') ? `Ports:\t${ports}\n` : `Port:\t${ports || '<none>'}\n`);
    const hostPorts = (c.ports ?? []).map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', ');
    w.write(2, hostPorts.includes(',') ? `Host Ports:\t${hostPorts}\n` : `Host Port:\t${hostPorts || '<none>'}\n`);
    writeLines(w, 'Command', c.command);
    writeLines(w, 'Args', c.args);
    if (status) {
      writeState(w, 'State', status.state);
      if (status.lastState?.terminated) writeState(w, 'Last State', status.lastState);
      w.write(2, `Ready:\t${status.ready ? 'True' : 'False'}\n`);
      w.write(2, `Restart Count:\t${status.restartCount ?? 0}\n`);
    }
    for (const [title, list] of [['Limits', c.resources?.limits], ['Requests', c.resources?.requests]] as const) {
      const entries = Object.entries(list ?? {}).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
      if (entries.length === 0) continue;
      w.write(2, `${title}:\n`);
      for (const [k, v] of entries) w.write(3, `${k}:\t${String(v)}\n`);
    }
    for (const [title, probe] of [['Liveness', c.livenessProbe], ['Readiness', c.readinessProbe], ['Startup', c.startupProbe]] as const) {
      if (probe) w.write(2, `${title}:\t${probeText(probe)}\n`);
    }
    if (c.envFrom?.length) {
      w.write(2, 'Environment Variables from:\n');
      for (const line of envFromLines(c.envFrom)) w.write(3, `${line}\n`);
    }
    w.write(2, `Environment:${c.env?.length ? '' : '\t<none>'}\n`);
    for (const e of c.env ?? []) {
      envValueText(e).split('\n').forEach((line, i) => w.write(3, i === 0 ? `${e.name}:\t${line}\n` : `\t${line}\n`));
    }
    writeMounts(w, 2, c.volumeMounts);
  }
}

function writeLines(w: DescribeWriter, title: string, values: string[] | undefined): void {
  if (!values?.length) return;
  w.write(2, `${title}:\n`);
  for (const v of values) for (const line of v.split('\n')) w.write(3, `${line}\n`);
}

function writeState(w: DescribeWriter, name: string, state: ContainerState | undefined): void {
  if (state?.running) {
    w.write(2, `${name}:\tRunning\n`);
    w.write(3, `Started:\t${describeTime(state.running.startedAt)}\n`);
  } else if (state?.waiting) {
    w.write(2, `${name}:\tWaiting\n`);
    if (state.waiting.reason) w.write(3, `Reason:\t${state.waiting.reason}\n`);
  } else if (state?.terminated) {
    const t = state.terminated;
    w.write(2, `${name}:\tTerminated\n`);
    if (t.reason) w.write(3, `Reason:\t${t.reason}\n`);
    if (t.message) w.write(3, `Message:\t${t.message}\n`);
    w.write(3, `Exit Code:\t${t.exitCode}\n`);
    if (t.signal) w.write(3, `Signal:\t${t.signal}\n`);
    w.write(3, `Started:\t${describeTime(t.startedAt)}\n`);
    w.write(3, `Finished:\t${describeTime(t.finishedAt)}\n`);
  } else {
    w.write(2, `${name}:\tWaiting\n`);
  }
}

/** A probe in one line, as kubectl describe shows it: handler, then its timing. */
function probeText(p: Probe): string {
  const t = probeTiming(p);
  let handler = '';
  if (p.exec) handler = `exec [${p.exec.command.join(' ')}]`;
  else if (p.httpGet) {
    const path = p.httpGet.path ?? '';
    handler = `http-get http://${p.httpGet.host ?? ''}:${p.httpGet.port}${path && !path.startsWith('/') ? '/' : ''}${path}`;
  } else if (p.tcpSocket) handler = `tcp-socket ${p.tcpSocket.host ?? ''}:${p.tcpSocket.port}`;
  return `${handler} delay=${t.initialDelaySeconds}s timeout=${t.timeoutSeconds}s period=${t.periodSeconds}s `
    + `#success=${t.successThreshold} #failure=${t.failureThreshold}`;
}
