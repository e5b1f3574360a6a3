/**
 * Runtime images built on demand: which names the node builds, one build per runtime however many
 * pods wait, and what a pod sees (Pulling/Pulled events, ErrImagePull with the builder's message).
 */
import pino from 'pino';
import { RUNTIME_IMAGE_LATEST } from '../../messages/function-names';
import type { CriClient } from '../cri/client';
import { executeActions } from '../pods/execute';
import { FakeCriRuntime, makePod } from '../pods/fixtures';
import { RuntimeImageBuilder, runtimeOfImage } from './on-demand';
import { InterpreterNotFoundError, type EnsureRuntimeImagesOptions, type EnsureRuntimeImagesResult } from './runtime-images';

const log = pino({ level: 'silent' });

describe('RuntimeImageBuilder', () => {
  it('knows the runtime images by their latest and hashed names, and nothing else', () => {
    expect(runtimeOfImage(RUNTIME_IMAGE_LATEST.python3)).toBe('python3');
    expect(runtimeOfImage('registry.mk.local/mk-runtime-node:0123456789ab')).toBe('node');
    expect(runtimeOfImage('registry.mk.local/mk-runtime-node')).toBe('node');
    expect(runtimeOfImage('registry.mk.local/mk-runtime-node@sha256:00')).toBeUndefined();
    expect(runtimeOfImage('docker.io/library/busybox:latest')).toBeUndefined();
    expect(runtimeOfImage('registry.mk.local/mk-runtime-ruby:latest')).toBeUndefined();
  });

  /** A CRI whose images appear once the fake build "imports" them; the build waits for `release`. */
  function setup(fail?: Error) {
    const cri = new FakeCriRuntime();
    const builds: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const ensureImages = async (_c: CriClient, o: EnsureRuntimeImagesOptions): Promise<EnsureRuntimeImagesResult> => {
      const runtime = o.runtimes![0];
      builds.push(runtime);
      await gate;
      if (fail) throw fail;
      const names = [`registry.mk.local/mk-runtime-${runtime}:0123456789ab`, RUNTIME_IMAGE_LATEST[runtime]];
      for (const n of names) cri.images.add(n);
      return { imported: names, present: [], images: { [runtime]: names[0] } };
    };
    const builder = new RuntimeImageBuilder(cri as unknown as CriClient, { socketPath: '/nowhere', workDir: '/nowhere', ensureImages });
    return { cri, builds, release, builder };
  }

  it('builds once per runtime for any number of waiting pods', async () => {
    const { builds, release, builder } = setup();
    const waits = [
      builder.ensure(RUNTIME_IMAGE_LATEST.python3), builder.ensure(RUNTIME_IMAGE_LATEST.python3),
      builder.ensure(RUNTIME_IMAGE_LATEST.node), builder.ensure(RUNTIME_IMAGE_LATEST.python3),
    ];
    release();
    await Promise.all(waits);
    expect(builds.sort()).toEqual(['node', 'python3']);
  });

  it("refuses another node's hashed name, naming the one to use", async () => {
    const { release, builder } = setup();
    release();
    await expect(builder.ensure('registry.mk.local/mk-runtime-python3:ffffffffffff')).rejects.toThrow(/name registry\.mk\.local\/mk-runtime-python3:latest/);
  });

  it('shows the build in the pod\'s events, and a missing interpreter as the pull\'s failure', async () => {
    const pod = makePod({ containers: [{ name: 'function', image: RUNTIME_IMAGE_LATEST.python3, imagePullPolicy: 'IfNotPresent' }] });
    const ok = setup();
    ok.release();
    const events: string[] = [];
    const out = await executeActions([{ type: 'pullImage', image: RUNTIME_IMAGE_LATEST.python3 }], {
      cri: ok.cri, pod, sandbox: { podLogsRoot: '/tmp/mk-logs' }, log, now: Date.now, images: ok.builder,
      event: (type, reason, message) => events.push(`${type} ${reason} ${message}`),
    });
    expect(out.failures).toEqual({});
    expect(events).toEqual([
      `Normal Pulling Building image "${RUNTIME_IMAGE_LATEST.python3}" from this node's interpreter`,
      expect.stringMatching(/^Normal Pulled Successfully built image "registry\.mk\.local\/mk-runtime-python3:latest" in \d+\.\d{3}s$/),
    ]);
    expect(ok.cri.calls).not.toContain('pullImage');

    const missing = setup(new InterpreterNotFoundError('python3'));
    missing.release();
    const failed = await executeActions([{ type: 'pullImage', image: RUNTIME_IMAGE_LATEST.python3 }], {
      cri: missing.cri, pod, sandbox: { podLogsRoot: '/tmp/mk-logs' }, log, now: Date.now, images: missing.builder,
    });
    expect(failed.failures.images?.[RUNTIME_IMAGE_LATEST.python3]).toMatch(/^python3 not found on this node: the python3 runtime image is built from the node's own interpreter/);
    expect(failed.events).toEqual([expect.objectContaining({ type: 'image-pull-failed', image: RUNTIME_IMAGE_LATEST.python3 })]);
  });
});

describe('RuntimeImageBuilder.warm', () => {
  it('builds every runtime in turn, going on past one that fails, and never throws', async () => {
    const order: string[] = [];
    const lines: { msg: string; runtime?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => { const o = JSON.parse(l) as { msg: string; runtime?: string }; lines.push(o); } });
    const builder = new RuntimeImageBuilder(new FakeCriRuntime() as unknown as CriClient, {
      socketPath: '/nowhere', workDir: '/nowhere', log: logger,
      ensureImages: async (_c, o) => {
        const runtime = o.runtimes![0];
        order.push(runtime);
        if (runtime === 'python3') throw new InterpreterNotFoundError('python3');
        return { imported: [RUNTIME_IMAGE_LATEST[runtime]], present: [], images: {} };
      },
    });
    await expect(builder.warm()).resolves.toBeUndefined();
    expect(order).toEqual(['python3', 'node']);
    expect(lines.map((l) => `${l.runtime} ${l.msg}`)).toEqual([
      'python3 runtime image not built in the background; a pod that needs it builds it',
      'node runtime image built and imported',
      'node runtime image ready',
    ]);
  });
});
