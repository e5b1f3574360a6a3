/**
 * Runtime images built when a pod needs them: a pod naming `mk-runtime-python3` or `mk-runtime-node`
 * (RUNTIME_IMAGE_LATEST, or this node's hashed name) that containerd lacks gets it built from the
 * node's own interpreter and imported instead of pulled (no registry serves it). One build per
 * runtime at a time: every pod waiting for it shares it. `warm` builds both in the background
 * once the agent has started, so the first function call does not pay for the build.
 */
import type { Logger } from 'pino';
import { RUNTIME_IMAGE_LATEST } from '../../messages/function-names';
import type { CriClient } from '../cri/client';
import {
  ensureRuntimeImages, FUNCTION_RUNTIMES, RUNTIME_IMAGE_REPOSITORIES, type EnsureRuntimeImagesOptions, type EnsureRuntimeImagesResult, type FunctionRuntime,
} from './runtime-images';

/** Options of RuntimeImageBuilder: ensureRuntimeImages's, less the runtimes. */
export interface RuntimeImageBuilderOptions extends Omit<EnsureRuntimeImagesOptions, 'runtimes'> {
  log?: Logger;
  /** Builds and imports (default ensureRuntimeImages; tests pass a fake). */
  ensureImages?: (cri: CriClient, opts: EnsureRuntimeImagesOptions) => Promise<EnsureRuntimeImagesResult>;
}

/** Images the node makes itself rather than pulls. */
export interface LocalImageBuilder {
  /** Whether `image` is one this node builds. */
  builds(image: string): boolean;
  /**
   * Makes `image` present in containerd: built and imported when missing, or already there.
   * Throws InterpreterNotFoundError when the node lacks the interpreter, and an Error naming
   * what failed otherwise (both the pod's ErrImagePull).
   */
  ensure(image: string): Promise<void>;
}

/** The repository of an image name (without its tag; a digest reference names no runtime image). */
const repositoryOf = (image: string): string => {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? image.slice(0, at) : image;
};

/** The runtime whose image `image` names, or undefined. */
export function runtimeOfImage(image: string): FunctionRuntime | undefined {
  if (image.includes('@')) return undefined;
  const repo = repositoryOf(image);
  return FUNCTION_RUNTIMES.find((r) => RUNTIME_IMAGE_REPOSITORIES[r] === repo);
}

/** The node's builder of runtime images; see the module comment. */
export class RuntimeImageBuilder implements LocalImageBuilder {
  private readonly inFlight = new Map<FunctionRuntime, Promise<void>>();
  constructor(
    private readonly cri: CriClient,
    private readonly opts: RuntimeImageBuilderOptions,
  ) {}

  builds(image: string): boolean { return runtimeOfImage(image) !== undefined; }

  async ensure(image: string): Promise<void> {
    const runtime = runtimeOfImage(image);
    if (!runtime) throw new Error(`${image} is not a runtime image this node builds`);
    await this.build(runtime);
    if ((await this.cri.imageStatus({ image: { image } })).image === null) {
      // Another node's hashed name: this node's interpreter makes a different image.
      throw new Error(`this node builds the ${runtime} runtime image from its own interpreter, and it is not ${image}: name ${RUNTIME_IMAGE_LATEST[runtime]}`);
    }
  }

  /** Builds (when missing) and imports the runtime's image; concurrent callers share one build. */
  build(runtime: FunctionRuntime): Promise<void> {
    let pending = this.inFlight.get(runtime);
    if (!pending) {
      const started = Date.now();
      const { log: _log, ensureImages = ensureRuntimeImages, ...opts } = this.opts;
      pending = ensureImages(this.cri, { ...opts, runtimes: [runtime] }).then((r) => {
        if (r.imported.length > 0) this.opts.log?.info({ runtime, images: r.imported, ms: Date.now() - started }, 'runtime image built and imported');
      }).finally(() => this.inFlight.delete(runtime));
      this.inFlight.set(runtime, pending);
    }
    return pending;
  }

  /**
   * Builds every runtime's image in turn, in the background: logs what it did and what failed
   * (a node without python3 still runs node functions), never throws.
   */
  async warm(): Promise<void> {
    for (const runtime of FUNCTION_RUNTIMES) {
      const started = Date.now();
      try {
        await this.build(runtime);
        this.opts.log?.info({ runtime, ms: Date.now() - started }, 'runtime image ready');
      } catch (err) {
        this.opts.log?.warn({ runtime, err: String(err) }, 'runtime image not built in the background; a pod that needs it builds it');
      }
    }
  }
}
