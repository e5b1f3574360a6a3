/** Images: the built-in and function runtime ones made on this machine, the OCI layout writer, archive import. */
export {
  BUSYBOX_IMAGE, PAUSE_IMAGE, buildBusyboxImage, busyboxLayer, buildPauseImage, busyboxNames, busyboxVersion, ensureBuiltinImages,
  type BuiltImage, type EnsureImagesOptions, type EnsureImagesResult, type ImageProgress, type ProgressFn,
} from './build';
export {
  CODE_DIR, FUNCTION_RUNTIMES, InterpreterNotFoundError, LOADER_PORT, RUNTIME_IMAGE_REPOSITORIES, buildRuntimeImage, ensureRuntimeImages,
  isInterpreterNotFound, runtimeImage, runtimeImageName, sharedLibraries,
  type EnsureRuntimeImagesOptions, type EnsureRuntimeImagesResult, type FunctionRuntime, type InterpreterPaths,
} from './runtime-images';
export { RuntimeImageBuilder, runtimeOfImage, type LocalImageBuilder, type RuntimeImageBuilderOptions } from './on-demand';
export {
  CRI_NAMESPACE, criSnapshotter, importImageArchive, inspectImageArchive, waitForImages,
  type ArchiveFormat, type ImportOptions, type ImportProgressFn,
} from './import';
export {
  ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, buildOciLayout, buildOciLayoutAsync, buildTar, ociArch, packOciLayout, sha256, writeOciArchive,
  type ImageRunConfig, type LayerEntry, type OciImageInfo, type OciImageSpec, type OciLayout,
} from './oci';
