/**
 * Built-in images and archive import against a real containerd in a test network namespace:
 * ensureBuiltinImages is idempotent, an OCI archive written by oci.ts imports under its names,
 * a bad archive is refused.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '../../../messages/errors';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, busyboxVersion, ensureBuiltinImages, type ImageProgress } from '../../../node-agent/images/build';
import { criSnapshotter, importImageArchive, waitForImages } from '../../../node-agent/images/import';
import { writeOciArchive } from '../../../node-agent/images/oci';
import { containerdE2eUnavailable, startTestContainerd, TEST_IMAGE_CACHE, type TestContainerd } from '../../helpers/containerd';
import { createNetns, type TestNetns } from '../../helpers/netns';

const unavailable = containerdE2eUnavailable();
if (unavailable) console.warn(`skipping image e2e tests: ${unavailable} (needs root, containerd, runc, CNI plugins, busybox-static)`);
const suite = unavailable ? describe.skip : describe;

jest.setTimeout(120_000);

suite('built-in images and archive import', () => {
  let ns: TestNetns;
  let ctrd: TestContainerd;
  let tmp: string;

  beforeAll(async () => {
    ns = await createNetns('mkimg');
    ctrd = await startTestContainerd({ netns: ns });
    tmp = await mkdtemp('/tmp/mk-img-test-');
  });

  afterAll(async () => {
    await ctrd?.stop();
    await ns?.destroy();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('imported pause and both busybox tags into a fresh containerd, unpacked for CRI', async () => {
    const version = await busyboxVersion();
    expect(ctrd.images.imported.sort()).toEqual([PAUSE_IMAGE, BUSYBOX_IMAGE, `docker.io/library/busybox:${version}`].sort());
    const { images } = await ctrd.cri.listImages({});
    const tags = images.flatMap((i) => i.repoTags);
    expect(tags).toEqual(expect.arrayContaining([PAUSE_IMAGE, BUSYBOX_IMAGE, `docker.io/library/busybox:${version}`]));
    expect(await criSnapshotter(ctrd.cri)).toBe(ctrd.process.snapshotter);
  });

  it('ensureBuiltinImages is idempotent: a second call imports nothing', async () => {
    const steps: ImageProgress[] = [];
    const t0 = Date.now();
    const again = await ensureBuiltinImages(ctrd.cri, { socketPath: ctrd.socketPath, workDir: TEST_IMAGE_CACHE, onProgress: (e) => steps.push(e) });
    console.log(`second ensureBuiltinImages: ${Date.now() - t0} ms`);
    expect(again.imported).toEqual([]);
    expect(again.present).toHaveLength(3);
    expect(steps.filter((s) => s.done).map((s) => s.step)).toEqual(['present', 'present']);
  });

  it('imports an OCI archive written by oci.ts and refuses one that is not an image', async () => {
    const name = 'registry.mk.local/test/hello:1';
    const tarPath = path.join(tmp, 'hello.tar');
    await writeOciArchive({
      names: [name],
      layers: [[{ type: 'dir', path: 'app' }, { type: 'file', path: 'app/hello.txt', data: Buffer.from('hello\n') }]],
      config: { cmd: ['/app/hello'] },
    }, tarPath);
    const names = await importImageArchive(ctrd.socketPath, tarPath, undefined, { snapshotter: ctrd.process.snapshotter });
    expect(names).toEqual([name]);
    await waitForImages(ctrd.cri, [name]);
    await ctrd.cri.removeImage({ image: { image: name } });
    expect((await ctrd.cri.imageStatus({ image: { image: name } })).image).toBeNull();

    const junk = path.join(tmp, 'junk.tar');
    await writeFile(junk, 'not a tar at all');
    await expect(importImageArchive(ctrd.socketPath, junk)).rejects.toThrow(ValidationError);
  });
});
