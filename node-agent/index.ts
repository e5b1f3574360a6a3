/** The node agent: containerd, CRI, images, CNI, and one actor per pod bound to this node. */
export { runNodeAgent, type NodeAgent, type NodeAgentOptions } from './agent';
