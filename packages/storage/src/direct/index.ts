export { type DirectClient, directClient, fetchRecord, pushRecords } from './client.js'
export { type GetHandlerComponents, handleGet } from './handlers/get.js'
export { handlePut, type PutHandlerComponents } from './handlers/put.js'
export {
  type DirectRecord,
  decodeMessage,
  decodeRequest,
  encodeMessage,
  type GetRequest,
  type GetResponse,
  MAX_RECORDS,
  MAX_REQUEST_BYTES,
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
export { type RecordHandlerOptions, recordHandler } from './server.js'
