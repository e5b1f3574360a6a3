/**
 * What the Function kind's readers share without its schema (the printers, the CLI, the code
 * bucket): runtimes, the handler and digest shapes, the defaults and bounds. No zod here.
 */

/** The runtimes a function may use. */
export const FUNCTION_RUNTIMES = ['python3', 'node'] as const;
export type FunctionRuntime = (typeof FUNCTION_RUNTIMES)[number];

/** `<module>.<function>`: identifiers, the module optionally in subdirectories (`lib/add.handler`). */
export const HANDLER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*\.[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A code digest: `sha256:` and 64 lower-case hex digits. */
export const CODE_DIGEST = /^sha256:[0-9a-f]{64}$/;

export const DEFAULT_TIMEOUT_SECONDS = 60;
export const MAX_TIMEOUT_SECONDS = 900;
export const DEFAULT_CONCURRENCY = 1;
export const MAX_CONCURRENCY = 1000;
export const DEFAULT_MIN_INSTANCES = 0;
export const DEFAULT_MAX_INSTANCES = 10;
export const MAX_INSTANCES = 1000;
export const DEFAULT_IDLE_SECONDS = 60;

/** The first 12 hex digits of a code digest, as `mk get -o wide` shows it ("" when there is none). */
export function shortDigest(digest: string | undefined): string {
  return digest?.startsWith('sha256:') ? digest.slice('sha256:'.length, 'sha256:'.length + 12) : '';
}

/**
 * The runtime images by a name every node gives them (`:latest`), beside the name that hashes the
 * node's interpreter: a Function's instance pods name these, and the node builds the image from
 * its own interpreter when it lacks it.
 */
export const RUNTIME_IMAGE_LATEST: Readonly<Record<FunctionRuntime, string>> = {
  python3: 'registry.mk.local/mk-runtime-python3:latest',
  node: 'registry.mk.local/mk-runtime-node:latest',
};

/** The CSI driver of a Function's code volume (an instance pod's `csi` volume). */
export const FUNCTION_CODE_CSI_DRIVER = 'functions.mk.io';
/** The label naming the Function an instance pod serves. */
export const FUNCTION_LABEL = 'mk.io/function';
/** The annotation that marks an instance pod as draining: gateways send it no new call. */
export const DRAINING_ANNOTATION = 'mk.io/draining';
/**
 * The annotation of a Function that sets its scale-down window in seconds (how long demand must
 * stay lower before instances are removed); DEFAULT_SCALE_DOWN_WINDOW_SECONDS when absent.
 */
export const SCALE_DOWN_WINDOW_ANNOTATION = 'mk.io/scale-down-window';
/** Knative's stable window: https://knative.dev/docs/serving/autoscaling/kpa-specific/#stable-window */
export const DEFAULT_SCALE_DOWN_WINDOW_SECONDS = 60;
/**
 * The annotation of a Function that sets its panic window as a percentage of the scale-down
 * (stable) window, Knative's `autoscaling.knative.dev/panic-window-percentage`
 * (https://knative.dev/docs/serving/autoscaling/kpa-specific/#panic-window): 1 to 100, 10 when absent.
 */
export const PANIC_WINDOW_PERCENTAGE_ANNOTATION = 'mk.io/panic-window-percentage';
/**
 * The annotation of a Function that sets its panic threshold: panic mode starts when the panic
 * window asks for at least this percentage of the ready instances. Knative's
 * `autoscaling.knative.dev/panic-threshold-percentage`
 * (https://knative.dev/docs/serving/autoscaling/kpa-specific/#panic-mode-threshold): 110 to 1000, 200 when absent.
 */
export const PANIC_THRESHOLD_PERCENTAGE_ANNOTATION = 'mk.io/panic-threshold-percentage';
export const DEFAULT_PANIC_WINDOW_PERCENTAGE = 10;
export const DEFAULT_PANIC_THRESHOLD_PERCENTAGE = 200;

/** How a Function scales beyond its spec, from its annotations (the defaults where absent). */
export interface ScalingSettings {
  /** The scale-down (stable) window in ms. */
  windowMs: number;
  /** The panic window in ms: panicWindowPercentage of windowMs. */
  panicWindowMs: number;
  /** The panic threshold as a ratio (2 for 200 %). */
  panicThreshold: number;
}

/** The bounds of each scaling annotation (inclusive), as Knative bounds its own. */
const SCALING_BOUNDS: Readonly<Record<string, { min: number; max: number; unit: string }>> = {
  [SCALE_DOWN_WINDOW_ANNOTATION]: { min: 0, max: 3600, unit: 'seconds' },
  [PANIC_WINDOW_PERCENTAGE_ANNOTATION]: { min: 1, max: 100, unit: 'percent' },
  [PANIC_THRESHOLD_PERCENTAGE_ANNOTATION]: { min: 110, max: 1000, unit: 'percent' },
};

/** The number a scaling annotation holds, or undefined when it is absent or out of its bounds. */
function scalingValue(annotations: Readonly<Record<string, string>> | undefined, key: string): number | undefined {
  const text = annotations?.[key];
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  const b = SCALING_BOUNDS[key];
  return Number.isFinite(n) && n >= b.min && n <= b.max ? n : undefined;
}

/**
 * Why a Function's scaling annotations are invalid, one message per bad annotation: admission
 * refuses them, as Knative's webhook refuses a bad `autoscaling.knative.dev/*` value.
 */
export function scalingAnnotationErrors(annotations: Readonly<Record<string, string>> | undefined): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  for (const [key, b] of Object.entries(SCALING_BOUNDS)) {
    const text = annotations?.[key];
    if (text === undefined || scalingValue(annotations, key) !== undefined) continue;
    out.push({ key, message: `Invalid value: ${JSON.stringify(text)}: must be a number of ${b.unit} between ${b.min} and ${b.max}, inclusive` });
  }
  return out;
}

/**
 * The scaling settings of a Function's annotations; a value out of bounds (only an object stored
 * before admission checked it can hold one) counts as absent.
 */
export function scalingSettings(annotations: Readonly<Record<string, string>> | undefined): ScalingSettings {
  const windowMs = (scalingValue(annotations, SCALE_DOWN_WINDOW_ANNOTATION) ?? DEFAULT_SCALE_DOWN_WINDOW_SECONDS) * 1000;
  const pct = scalingValue(annotations, PANIC_WINDOW_PERCENTAGE_ANNOTATION) ?? DEFAULT_PANIC_WINDOW_PERCENTAGE;
  const threshold = scalingValue(annotations, PANIC_THRESHOLD_PERCENTAGE_ANNOTATION) ?? DEFAULT_PANIC_THRESHOLD_PERCENTAGE;
  return { windowMs, panicWindowMs: windowMs * pct / 100, panicThreshold: threshold / 100 };
}
/** The port an instance's loader listens on. */
export const FUNCTION_PORT = 8080;
/** The share of an instance's concurrency the autoscaler aims to use (Knative's target utilisation). */
export const TARGET_UTILIZATION = 0.7;
/** The gateway's HTTP port when `mk up --gateway-port` is not given. */
export const DEFAULT_GATEWAY_PORT = 8081;
/** The largest request body the gateway takes. */
export const MAX_INVOKE_BODY_BYTES = 6 * 1024 * 1024;
/** How many calls of one function may wait for an instance in one gateway before it answers 503. */
export const DEFAULT_QUEUE_BOUND = 1000;
