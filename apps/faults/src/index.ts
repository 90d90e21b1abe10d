export { digestOf, type Outcome, readContent, writeContent } from './api.js'
export { type CheckResult, checkHistory, PROPERTIES, type Property, type Violation } from './checker.js'
export {
  createHistory,
  type History,
  type Op,
  type OpKind,
  type OpType,
  type VersionSeen
} from './history.js'
export { LAB_API_PORT, LAB_P2P_PORT } from './lab/agents.js'
export {
  type LabSiteLayout,
  labLayout,
  labNodeName,
  natNodes,
  RELAY_CHAIN,
  relayCutRules,
  relayNodesOf
} from './lab/layout.js'
export {
  closeLabTargets,
  createLabTarget,
  LAB_AGENT_ENV,
  type LabNodeStatus,
  type LabTarget,
  type LabTargetInit
} from './lab/target.js'
export { CHORUS_NODE_BIN } from './loopback/agents.js'
export { createLoopbackFirewall, iptablesAvailable, type LoopbackFirewall } from './loopback/iptables.js'
export {
  closeLoopbackTargets,
  createLoopbackTarget,
  FAST_AGENT_ENV,
  type LoopbackTarget,
  type LoopbackTargetInit
} from './loopback/target.js'
export { type FaultEvent, playSchedule } from './nemesis.js'
export { createRandom, normalizeSeed, type Random, randomSeed } from './prng.js'
export { type FaultsReport, summarizeRuns, workspaceRoot, writeFaultsReport } from './report.js'
export { type FaultRunInit, type FaultRunReport, runFaults } from './run.js'
export {
  CI_SCHEDULE,
  describeSchedule,
  FAULT_KINDS,
  type Fault,
  type FaultKind,
  generateSchedule,
  LAB_CI_SCHEDULE,
  type Schedule,
  type ScheduleInit
} from './schedule.js'
export type {
  AbortOptions,
  EndpointRequest,
  EndpointTransport,
  FaultTarget,
  NodeEndpoint
} from './target.js'
export { addressFor, atVersion, createWorkload, type Workload, type WorkloadInit } from './workload.js'
