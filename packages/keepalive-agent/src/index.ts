export {
  type HygienicAgent,
  isResetOfReusedSocket,
  KeepaliveHttpAgent,
  KeepaliveHttpsAgent,
} from './agents.js'
export { KeepaliveDispatcher, type KeepaliveDispatcherOptions } from './dispatcher.js'
export { installedGlobal, installGlobal, uninstallGlobal } from './global.js'
export {
  defaults,
  type KeepaliveAgentContext,
  type KeepaliveAgentOptions,
  keepaliveAgent,
  keepaliveAgent as default,
} from './keepalive-agent.js'
export {
  type HttpResourcesOptions,
  type KeepaliveTlsOptions,
  packageName,
  resourceDefaults,
} from './options.js'
export { KeepaliveRequestHandler, type KeepaliveRequestHandlerOptions } from './request-handler.js'
export { createHttpResources, type FetchDispatcher, type HttpResources } from './resources.js'
export type { KeepaliveStats } from './stats.js'
export type { Invocation } from './unread-bodies.js'
