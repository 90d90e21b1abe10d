export { type DirectClient, directClient, fetchRecord, pushRecords } from './client.js'
export { type GetHandlerComponents, handleGet } from './handlers/get.js'
export { handlePut, type PutHandlerComponents, replaces } from './handlers/put.js'
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
  RECORD_PROTOCOL,
  type RecordRequest
} from './protocol.js'
export { recordHandler } from './server.js'
