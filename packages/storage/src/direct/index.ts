export { type DirectClient, directClient, fetchRecord, itemsOf, pushBatch, pushRecords } from './client.js'
export { type GetHandlerComponents, handleGet } from './handlers/get.js'
export { handlePut, type PutHandlerComponents } from './handlers/put.js'
export {
  type BatchItem,
  type BatchRequest,
  busy,
  type DirectRecord,
  decodeMessage,
  decodeRequest,
  encodeMessage,
  type GetRequest,
  type GetResponse,
  MAX_BATCH_ITEMS,
  MAX_BATCH_RESPONSE_BYTES,
  MAX_KEY_LENGTH,
  MAX_RECORDS,
  MAX_REQUEST_BYTES,
  MAX_RETRY_AFTER_MS,
  type PutRequest,
  type PutResponse,
  parseBatchResponse,
  parsePutResponse,
  RECORD_PROTOCOL,
  REFUSAL_CODES,
  REFUSAL_TEXT,
  type RecordRequest,
  type RefusalCode,
  refusal
} from './protocol.js'
export { DEFAULT_BATCHES_IN_FLIGHT, PushBatcher, type SendBatch } from './push-batcher.js'
export {
  BUSY_RETRY_AFTER_MS,
  DEFAULT_MAX_CONCURRENT_PUTS,
  type RecordHandlerOptions,
  recordHandler
} from './server.js'
