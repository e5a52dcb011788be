import { BSON, type Document } from 'bson'

export const OP_REPLY = 1
export const OP_QUERY = 2004
export const OP_COMPRESSED = 2012
export const OP_MSG = 2013
const MAX_MESSAGE_BYTES = 48_000_000
const CHECKSUM_PRESENT = 1
const MORE_TO_COME = 2

export interface WireRequest {
  requestId: number
  opCode: number
  /** The command document, with kind-1 document sequences merged in as arrays. */
  command: Document
  /** OP_MSG moreToCome: the client expects no reply (w:0 writes). */
  moreToCome: boolean
}

/** Thrown when a frame cannot be decoded; the request still gets an error reply. */
export class WireError extends Error {}

/** Splits a TCP byte stream into whole wire-protocol messages (frames may span chunks). */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    const frames: Buffer[] = []
    while (this.pending.length >= 4) {
      const length = this.pending.readInt32LE(0)
      // A bad length means the stream cannot be resynchronised: the caller drops the socket.
      if (length < 16 || length > MAX_MESSAGE_BYTES) throw new WireError(`invalid message length ${length}`)
      if (this.pending.length < length) break
      frames.push(this.pending.subarray(0, length))
      this.pending = this.pending.subarray(length)
    }
    return frames
  }
}

const deserialize = (bytes: Buffer): Document => BSON.deserialize(bytes)

function readCString(frame: Buffer, pos: number): [string, number] {
  const end = frame.indexOf(0, pos)
  if (end < 0) throw new WireError('unterminated cstring')
  return [frame.toString('utf8', pos, end), end + 1]
}

function readDocument(frame: Buffer, pos: number, end: number): [Document, number] {
  if (pos + 5 > end) throw new WireError('truncated BSON document')
  const size = frame.readInt32LE(pos)
  if (size < 5 || pos + size > end) throw new WireError('bad BSON document size')
  return [deserialize(frame.subarray(pos, pos + size)), pos + size]
}

export function requestIdOf(frame: Buffer): number {
  return frame.readInt32LE(4)
}

export function parseMessage(frame: Buffer): WireRequest {
  const requestId = frame.readInt32LE(4)
  const opCode = frame.readInt32LE(12)
  if (opCode === OP_MSG) return parseOpMsg(frame, requestId)
  if (opCode === OP_QUERY) return parseOpQuery(frame, requestId)
  if (opCode === OP_COMPRESSED) throw new WireError('OP_COMPRESSED is not supported by the stand-in')
  throw new WireError(`unsupported opCode ${opCode}`)
}

function parseOpMsg(frame: Buffer, requestId: number): WireRequest {
  const flags = frame.readUInt32LE(16)
  const end = flags & CHECKSUM_PRESENT ? frame.length - 4 : frame.length
  let body: Document | undefined
  const sequences: Record<string, Document[]> = {}
  let pos = 20
  while (pos < end) {
    const kind = frame[pos++]
    if (kind === 0) {
      ;[body, pos] = readDocument(frame, pos, end)
    } else if (kind === 1) {
      const sectionEnd = pos + frame.readInt32LE(pos)
      if (sectionEnd > end) throw new WireError('bad document sequence size')
      let identifier: string
      ;[identifier, pos] = readCString(frame, pos + 4)
      const docs: Document[] = []
      while (pos < sectionEnd) {
        let doc: Document
        ;[doc, pos] = readDocument(frame, pos, sectionEnd)
        docs.push(doc)
      }
      sequences[identifier] = docs
    } else {
      throw new WireError(`unsupported OP_MSG section kind ${kind}`)
    }
  }
  if (!body) throw new WireError('OP_MSG without a body section')
  Object.assign(body, sequences)
  return { requestId, opCode: OP_MSG, command: body, moreToCome: (flags & MORE_TO_COME) !== 0 }
}

function parseOpQuery(frame: Buffer, requestId: number): WireRequest {
  const [collection, pos] = readCString(frame, 20)
  if (!collection.endsWith('.$cmd'))
    throw new WireError(`OP_QUERY is only supported on $cmd, not ${collection}`)
  // Skip numberToSkip and numberToReturn; an optional field selector after the query is ignored.
  let [query] = readDocument(frame, pos + 8, frame.length)
  if (query.$query && typeof query.$query === 'object') query = query.$query as Document
  query.$db ??= collection.slice(0, -'.$cmd'.length)
  return { requestId, opCode: OP_QUERY, command: query, moreToCome: false }
}

let nextRequestId = 1

function header(length: number, responseTo: number, opCode: number): Buffer {
  const buf = Buffer.alloc(16)
  buf.writeInt32LE(length, 0)
  buf.writeInt32LE(nextRequestId++ & 0x7fffffff, 4)
  buf.writeInt32LE(responseTo, 8)
  buf.writeInt32LE(opCode, 12)
  return buf
}

const serialize = (doc: Document): Uint8Array => BSON.serialize(doc, { ignoreUndefined: true })

/** OP_MSG reply: flags 0, a single kind-0 section. */
export function encodeOpMsg(responseTo: number, doc: Document): Buffer {
  const body = serialize(doc)
  const prefix = Buffer.alloc(5) // uint32 flags + section kind 0
  return Buffer.concat([header(16 + 5 + body.length, responseTo, OP_MSG), prefix, body])
}

/** OP_REPLY (answer to a legacy OP_QUERY handshake): one document, cursor id 0. */
export function encodeOpReply(responseTo: number, doc: Document): Buffer {
  const body = serialize(doc)
  const fields = Buffer.alloc(20) // responseFlags, cursorID (int64), startingFrom
  fields.writeInt32LE(1, 16) // numberReturned
  return Buffer.concat([header(16 + 20 + body.length, responseTo, OP_REPLY), fields, body])
}
