/**
 * Finds what a container needs to use the node's NVIDIA GPUs, as the NVIDIA device plugin and
 * container toolkit find it: one character device per GPU (`/dev/nvidiaN`), the driver's control
 * devices, its user-space libraries and its tools. The parsers are pure; discoverGpus reads the
 * machine. A device root other than /dev (`--gpu-dev-root`) holds stand-in device nodes.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** One GPU: its device node and, when nvidia-smi told, its UUID. */
export interface GpuDevice {
  /** N of /dev/nvidiaN (the driver's minor number). */
  index: number;
  /** The device node on the node (under the device root). */
  hostPath: string;
  /** Where the container sees it: /dev/nvidiaN. */
  containerPath: string;
  /** GPU-xxxxxxxx-..., from `nvidia-smi -L`. */
  uuid?: string;
}

/** A device node given to every GPU container: host path and the path inside. */
export interface ControlDevice { hostPath: string; containerPath: string }

/** What the node has of NVIDIA GPUs and their driver. */
export interface GpuInventory {
  /** Sorted by index. */
  gpus: GpuDevice[];
  /** /dev/nvidiactl, /dev/nvidia-uvm, /dev/nvidia-uvm-tools, /dev/nvidia-modeset: those present. */
  controlDevices: ControlDevice[];
  /** Absolute paths of the driver's libraries (mounted read-only at the same path). */
  libraries: string[];
  /** Absolute paths of the driver's tools, such as nvidia-smi (mounted read-only at the same path). */
  binaries: string[];
}

/** The control devices of the driver, by name under the device root. */
export const CONTROL_DEVICES = ['nvidiactl', 'nvidia-uvm', 'nvidia-uvm-tools', 'nvidia-modeset'];

/** Libraries of the compute and utility capabilities, by the name before `.so`. */
export const DRIVER_LIBRARIES = [
  'libcuda', 'libcudadebugger', 'libnvidia-ml', 'libnvidia-cfg', 'libnvidia-ptxjitcompiler',
  'libnvidia-nvvm', 'libnvidia-opencl', 'libnvidia-gpucomp', 'libnvidia-allocator', 'libnvidia-compiler',
  'libnvidia-fatbinaryloader',
];

/** Tools of the compute and utility capabilities. */
export const DRIVER_BINARIES = ['nvidia-smi', 'nvidia-debugdump', 'nvidia-persistenced', 'nvidia-cuda-mps-control', 'nvidia-cuda-mps-server'];

/** Where libraries are looked for when `ldconfig -p` gives nothing. */
export const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib/x86_64-linux-gnu'];
/** Where tools are looked for. */
export const BINARY_DIRS = ['/usr/bin', '/usr/local/bin', '/bin', '/usr/sbin'];

const GPU_NODE = /^nvidia(\d+)$/;

/** GPUs among the names of the device root's entries (`nvidia0`, `nvidia1`, ...), sorted by index. */
export function gpuNodes(names: readonly string[], devRoot: string): GpuDevice[] {
  const out: GpuDevice[] = [];
  for (const n of names) {
    const m = GPU_NODE.exec(n);
    if (m) out.push({ index: Number(m[1]), hostPath: path.join(devRoot, n), containerPath: `/dev/${n}` });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** index -> UUID from `nvidia-smi -L` (`GPU 0: NVIDIA H200 (UUID: GPU-...)`). */
export function parseNvidiaSmiList(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^GPU (\d+):.*\(UUID: (GPU-[0-9a-fA-F-]+)\)/.exec(line.trim());
    if (m) out.set(Number(m[1]), m[2]!);
  }
  return out;
}

/** The ldconfig architecture tag of this process's libraries. */
function ldconfigArch(arch: string): string | undefined {
  if (arch === 'x64') return 'x86-64';
  if (arch === 'arm64') return 'AArch64';
  return undefined;
}

/** Whether a file name is one of the driver's libraries (`libcuda.so`, `libcuda.so.1`, `libcuda.so.550.54`). */
export function isDriverLibrary(file: string): boolean {
  const m = /^(.+?)\.so(\.[0-9.]+)?$/.exec(file);
  return !!m && DRIVER_LIBRARIES.includes(m[1]!);
}

/**
 * The driver's libraries listed by `ldconfig -p` (lines like
 * `libcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1`), of this machine's
 * architecture (32-bit copies are left out), without repeats.
 */
export function parseLdconfig(text: string, arch: string = process.arch): string[] {
  const tag = ldconfigArch(arch);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/.exec(line);
    if (!m || !isDriverLibrary(m[1]!)) continue;
    const flags = m[2]!.split(',');
    const archFlag = flags.find((f) => f !== 'libc6' && !f.startsWith('OS ABI') && f !== 'hwcap');
    if (tag && archFlag !== tag) continue;
    if (!out.includes(m[3]!)) out.push(m[3]!);
  }
  return out;
}

/** How discoverGpus reads the machine; tests replace any of it. */
export interface DiscoveryOptions {
  /** Where the device nodes are (default /dev). */
  devRoot?: string;
  /** `ldconfig -p`'s output; default: runs it (none when it cannot run). */
  ldconfig?: () => Promise<string>;
  /** `nvidia-smi -L`'s output; default: runs it when the device root is /dev (none when it cannot run). */
  nvidiaSmiList?: () => Promise<string>;
  /** Directories searched for libraries when ldconfig finds none (default LIBRARY_DIRS). */
  libraryDirs?: string[];
  /** Directories searched for the tools (default BINARY_DIRS). */
  binaryDirs?: string[];
  /** Whether a path is a character device (default: stat); unit tests stub it. */
  isDevice?: (p: string) => Promise<boolean>;
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 5_000 }, (err, stdout) => resolve(err ? '' : stdout));
  });
}

async function list(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}

async function isCharDevice(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isCharacterDevice();
  } catch {
    return false;
  }
}

/**
 * The node's GPUs and driver files. GPUs are the character devices `nvidiaN` of the device root;
 * no GPU means nothing else is looked for (a driver without devices is of no use to a container).
 */
export async function discoverGpus(opts: DiscoveryOptions = {}): Promise<GpuInventory> {
  const devRoot = opts.devRoot ?? '/dev';
  const isDevice = opts.isDevice ?? isCharDevice;
  const candidates = gpuNodes(await list(devRoot), devRoot);
  const gpus: GpuDevice[] = [];
  for (const g of candidates) if (await isDevice(g.hostPath)) gpus.push(g);
  if (gpus.length === 0) return { gpus: [], controlDevices: [], libraries: [], binaries: [] };
  const controlDevices: ControlDevice[] = [];
  for (const n of CONTROL_DEVICES) {
    const hostPath = path.join(devRoot, n);
    if (await isDevice(hostPath)) controlDevices.push({ hostPath, containerPath: `/dev/${n}` });
  }
  const smi = opts.nvidiaSmiList ?? (devRoot === '/dev' ? () => run('nvidia-smi', ['-L']) : async () => '');
  const uuids = parseNvidiaSmiList(await smi());
  for (const g of gpus) {
    const uuid = uuids.get(g.index);
    if (uuid) g.uuid = uuid;
  }
  let libraries = parseLdconfig(await (opts.ldconfig ?? (() => run('ldconfig', ['-p'])))());
  if (libraries.length === 0) {
    for (const dir of opts.libraryDirs ?? LIBRARY_DIRS) {
      for (const f of (await list(dir)).sort()) if (isDriverLibrary(f)) libraries.push(path.join(dir, f));
    }
    libraries = [...new Set(libraries)];
  }
  const binaries: string[] = [];
  for (const name of DRIVER_BINARIES) {
    for (const dir of opts.binaryDirs ?? BINARY_DIRS) {
      const p = path.join(dir, name);
      try {
        await fs.access(p, fs.constants.X_OK);
        binaries.push(p);
        break;
      } catch { /* not in this directory */ }
    }
  }
  return { gpus, controlDevices, libraries, binaries };
}
