export { type Agent, createAgent, LOCAL_RECIPIENTS } from './agent/agent.js'
export { generateKeyFiles, type KeygenResult, type Recipients, readRecipientsFile } from './agent/keys.js'
export { createLogger } from './agent/logger.js'
export { AGENT_NODE_FLAGS } from './agent/node-flags.js'
export { runAgent } from './agent/run.js'
export type {
  AgentService,
  RetrieveResult,
  SearchQuery,
  StoreRequest,
  TeamRecordInput
} from './agent/service.js'
export {
  API_ERROR_CODES,
  type APIErrorCode,
  HTTP_ERRORS,
  type HttpError,
  httpErrorOf,
  type PublicCode
} from './api/error-codes.js'
export { APIError, type APIErrorBody, type MappedError, mapError } from './api/errors.js'
export { createAPIMetrics } from './api/metrics.js'
export { type APIServer, type APIServerInit, createAPIServer } from './api/server.js'
export { CLI_ERROR_CODES, CliError, type CliErrorCode } from './cli/exit-codes.js'
export { type Assignment, chooseBootstrapPeers, readAssignment } from './config/assignment.js'
export { ConfigError, type LoadConfigOptions, type LoadedConfig, loadConfig } from './config/load.js'
export { configSchema, defaultConfig, type NodeConfig } from './config/schema.js'
export {
  EXTRA_ENV,
  envName,
  flagName,
  SETTING_ALIASES,
  SETTINGS,
  type Setting,
  type SettingAlias
} from './config/settings.js'
export { type DemoOptions, runDemo } from './demo/run.js'
export { AGENT_ERROR_CODES, AgentError, type AgentErrorCode } from './errors.js'
