/** The node's pod network: CNI bridge config. */
export {
  REQUIRED_CNI_PLUGINS, assertCniPlugins, buildCniConfig, gatewayOf, missingCniPlugins, parseCidr, removeCniResultCache, writeCniConfig,
  type CniConfigOptions, type WriteCniConfigOptions,
} from './cni';
