export { type DirectClient, directClient, fetchRecord, pushRecords } from './client.js'
export { type GetHandlerComponents, handleGet } from './handlers/get.js'
export { handlePut, type PutHandlerComponents } from './handlers/put.js'
export {
  busy,
  type DirectRecord,
  decodeMessage,
  decodeRequest,
  encodeMessage,
  type GetRequest,
  type GetResponse,
  MAX_RECORDS,
  MAX_REQUEST_BYTES,
  MAX_RETRY_AFTER_MS,
  type PutRequest,
  type PutResponse,
  parsePutResponse,
  RECORD_PROTOCOL,
  REFUSAL_CODES,
  REFUSAL_TEXT,
  type RecordRequest,
  type RefusalCode,
  refusal
} from './protocol.js'
export {
  BUSY_RETRY_AFTER_MS,
  DEFAULT_MAX_CONCURRENT_PUTS,
  type RecordHandlerOptions,
  recordHandler
} from './server.js'
