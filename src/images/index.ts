// The local image builder: busybox-static (and, on request, the host's node) -> rootfs -> `docker import`.

export { buildImages, ensureImages, selectImageKeys, type BuildImagesOptions, type BuiltImage } from './build.js';
export {
  ALL_IMAGE_KEYS,
  DEFAULT_IMAGE_KEYS,
  ECHO_PORTS,
  IMAGE_LABELS,
  IMAGES,
  NODE_PORTS,
  imageKeyOf,
  isKubeliteImage,
  type ImageKey,
} from './refs.js';
