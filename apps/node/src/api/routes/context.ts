import type { FastifyInstance } from 'fastify'
import type { AgentService } from '../../agent/service.js'
import { API_ERROR_CODES } from '../error-codes.js'
import { APIError } from '../errors.js'
import type { APIMetrics } from '../metrics.js'

/** What every route module is given: the agent's service, the API's metrics, the readiness gate. */
export interface RouteContext {
  service: AgentService
  metrics: APIMetrics
  /** Throws 503 `UCXL-503-NOT_READY` until the agent is ready. */
  requireReady(): void
}

/** A route module: registers its routes on the app (see `server.ts`, the one list of modules). */
export type RouteModule = (app: FastifyInstance, ctx: RouteContext) => void

export function routeContext(service: AgentService, metrics: APIMetrics): RouteContext {
  return {
    service,
    metrics,
    requireReady() {
      if (!service.isReady()) throw new APIError(503, API_ERROR_CODES.NOT_READY, 'the agent is not ready yet')
    }
  }
}
