/** Images: the built-in ones made on this machine, the OCI layout writer, archive import. */
export {
  BUSYBOX_IMAGE, PAUSE_IMAGE, buildBusyboxImage, buildPauseImage, busyboxNames, busyboxVersion, ensureBuiltinImages,
  type BuiltImage, type EnsureImagesOptions, type EnsureImagesResult, type ImageProgress, type ProgressFn,
} from './build';
export {
  CRI_NAMESPACE, criSnapshotter, importImageArchive, inspectImageArchive, waitForImages,
  type ArchiveFormat, type ImportOptions, type ImportProgressFn,
} from './import';
export {
  ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, buildOciLayout, buildTar, ociArch, packOciLayout, sha256, writeOciArchive,
  type ImageRunConfig, type LayerEntry, type OciImageInfo, type OciImageSpec, type OciLayout,
} from './oci';
