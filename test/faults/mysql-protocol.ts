/**
 * Just enough of the MySQL client/server protocol for the fault proxy to know where a client's command starts and
 * what statement it carries: packet framing (3-byte little-endian payload length + 1-byte sequence id), the command
 * byte of a packet with sequence id 0, the text of COM_QUERY and COM_STMT_PREPARE, the statement id of
 * COM_STMT_EXECUTE, the thread id in the server's greeting, and the statement id in a COM_STMT_PREPARE_OK.
 *
 * Understands the plain protocol only: when the client's first packet asks for TLS or compression, the rest of that
 * connection's stream is passed through without looking (no commands are reported). A client packet with
 * sequence id 0 is taken for a command: true for every command, but the sequence id of a stream of more than 256
 * packets (a LOAD DATA LOCAL file, a statement over 4 GB) wraps to 0 in the middle.
 */

/** Size of a packet header: 3 bytes of payload length, 1 byte of sequence id. */
const HEADER_BYTES = 4;
/** Capability flags of the client's first packet after which the stream is no longer plain MySQL packets. */
const CLIENT_COMPRESS = 0x20;
const CLIENT_SSL = 0x800;
/** How many payload bytes of a server packet are looked at (the greeting's thread id sits after the version text). */
const SERVER_PEEK_BYTES = 128;

/** Command bytes the proxy names. */
export const Command = {
  QUIT: 0x01,
  QUERY: 0x03,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_CLOSE: 0x19,
} as const;

/** What a client command is, as far as the proxy cares. */
export type CommandKind = 'query' | 'prepare' | 'execute' | 'close_statement' | 'quit' | 'other';

/** A command a client sent (the first packet of it, complete). */
export interface ClientCommand {
  /** The command byte (`0x03` COM_QUERY, `0x16` COM_STMT_PREPARE, `0x17` COM_STMT_EXECUTE, …). */
  readonly command: number;
  /** The command byte by name. */
  readonly kind: CommandKind;
  /**
   * The statement text: of COM_QUERY and COM_STMT_PREPARE as sent; of COM_STMT_EXECUTE the text this connection
   * prepared under that statement id (when the proxy saw the prepare); otherwise null. Only the first packet's
   * text for a statement of 16 MB or more.
   */
  readonly sql: string | null;
  /** The statement id of COM_STMT_EXECUTE and COM_STMT_CLOSE, else null. */
  readonly statementId: number | null;
  /** Bytes on the wire of the command's first packet, header included. */
  readonly bytes: number;
}

/** A piece of the client's byte stream: either plain bytes, or one whole command packet. */
export interface ClientSegment {
  /** The bytes, in stream order. */
  readonly bytes: Buffer;
  /** The command these bytes are the first packet of, or null for anything else. */
  readonly command: ClientCommand | null;
}

function kindOf(command: number): CommandKind {
  switch (command) {
    case Command.QUERY:
      return 'query';
    case Command.STMT_PREPARE:
      return 'prepare';
    case Command.STMT_EXECUTE:
      return 'execute';
    case Command.STMT_CLOSE:
      return 'close_statement';
    case Command.QUIT:
      return 'quit';
    default:
      return 'other';
  }
}

/**
 * Splits the client→server byte stream into segments so that every command packet comes out whole and on its own
 * (it may arrive over several chunks, and several packets may share a chunk). Other bytes come out as they arrive,
 * except up to 3 bytes of a packet header that has not fully arrived yet, and the client's first packet (its
 * capability flags say whether TLS or compression follow), which comes out whole.
 */
export class ClientStreamParser {
  #header: Buffer = Buffer.alloc(0);
  /** The next packet is the client's first (handshake response or TLS request). */
  #first = true;
  /** TLS or compression was negotiated: the stream is opaque from here on. */
  #opaque = false;
  /** Payload bytes of a non-command packet still to pass through. */
  #passRemaining = 0;
  /** Pieces of the command packet being collected, or null. */
  #collected: Buffer[] | null = null;
  #collectRemaining = 0;
  readonly #statementText: (id: number) => string | null;

  /** @param statementText - the text prepared under a statement id on this connection, for COM_STMT_EXECUTE */
  constructor(statementText: (id: number) => string | null) {
    this.#statementText = statementText;
  }

  /** Feeds one chunk; returns the segments that are complete, in order. */
  push(chunk: Buffer): ClientSegment[] {
    const segments: ClientSegment[] = [];
    let plain: Buffer[] = [];
    const flushPlain = (): void => {
      if (plain.length === 0) return;
      segments.push({ bytes: plain.length === 1 ? (plain[0] as Buffer) : Buffer.concat(plain), command: null });
      plain = [];
    };
    let at = 0;
    while (at < chunk.length) {
      if (this.#opaque) {
        plain.push(chunk.subarray(at));
        break;
      }
      if (this.#collected !== null) {
        const take = Math.min(this.#collectRemaining, chunk.length - at);
        this.#collected.push(chunk.subarray(at, at + take));
        this.#collectRemaining -= take;
        at += take;
        if (this.#collectRemaining === 0) {
          const packet = Buffer.concat(this.#collected);
          this.#collected = null;
          if (this.#first) {
            this.#first = false;
            const flags = packet.length >= HEADER_BYTES + 4 ? packet.readUInt32LE(HEADER_BYTES) : 0;
            this.#opaque = (flags & (CLIENT_SSL | CLIENT_COMPRESS)) !== 0;
            plain.push(packet);
          } else {
            segments.push({ bytes: packet, command: this.#parse(packet) });
          }
        }
        continue;
      }
      if (this.#passRemaining > 0) {
        const take = Math.min(this.#passRemaining, chunk.length - at);
        plain.push(chunk.subarray(at, at + take));
        this.#passRemaining -= take;
        at += take;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.#header.length, chunk.length - at);
      this.#header = Buffer.concat([this.#header, chunk.subarray(at, at + take)]);
      at += take;
      if (this.#header.length < HEADER_BYTES) break;
      const header = this.#header;
      this.#header = Buffer.alloc(0);
      const length = header.readUIntLE(0, 3);
      if (this.#first && length > 0) {
        this.#collected = [header];
        this.#collectRemaining = length;
      } else if (header[3] === 0 && length > 0) {
        flushPlain();
        this.#collected = [header];
        this.#collectRemaining = length;
      } else {
        plain.push(header);
        this.#passRemaining = length;
      }
    }
    flushPlain();
    return segments;
  }

  #parse(packet: Buffer): ClientCommand {
    const command = packet[HEADER_BYTES] as number;
    const kind = kindOf(command);
    const hasId = (kind === 'execute' || kind === 'close_statement') && packet.length >= HEADER_BYTES + 5;
    const statementId = hasId ? packet.readUInt32LE(HEADER_BYTES + 1) : null;
    let sql: string | null = null;
    if (kind === 'query' || kind === 'prepare') sql = packet.subarray(HEADER_BYTES + 1).toString('utf8');
    else if (kind === 'execute' && statementId !== null) sql = this.#statementText(statementId);
    return { command, kind, sql, statementId, bytes: packet.length };
  }
}

/** What {@link ServerStreamWatcher} reports. */
export interface ServerStreamEvents {
  /** The server's greeting named this connection's thread id (`CONNECTION_ID()`). */
  greeting(threadId: number): void;
  /** The oldest prepare awaiting an answer was answered: with its statement id, or with an error (null). */
  prepared(statementId: number | null): void;
}

/**
 * Watches the server→client byte stream without changing it: reads the thread id from the greeting, and the answer
 * to each COM_STMT_PREPARE (the first packet the server sends after it). Call {@link ServerStreamWatcher.expectPrepareAnswer}
 * when a prepare has been forwarded to the server.
 */
export class ServerStreamWatcher {
  #header: Buffer = Buffer.alloc(0);
  #skipRemaining = 0;
  #peek: Buffer[] | null = null;
  #peekRemaining = 0;
  #greeted = false;
  #awaitingPrepares = 0;
  readonly #events: ServerStreamEvents;

  /** @param events - called as the stream reveals them */
  constructor(events: ServerStreamEvents) {
    this.#events = events;
  }

  /** The next server packet is the answer to a prepare. */
  expectPrepareAnswer(): void {
    this.#awaitingPrepares++;
  }

  /** Looks at one chunk, in stream order. */
  observe(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#peek !== null) {
        const take = Math.min(this.#peekRemaining, chunk.length - at);
        this.#peek.push(chunk.subarray(at, at + take));
        this.#peekRemaining -= take;
        at += take;
        if (this.#peekRemaining === 0) {
          const payload = Buffer.concat(this.#peek);
          this.#peek = null;
          this.#onPacketStart(payload);
        }
        continue;
      }
      if (this.#skipRemaining > 0) {
        const take = Math.min(this.#skipRemaining, chunk.length - at);
        this.#skipRemaining -= take;
        at += take;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.#header.length, chunk.length - at);
      this.#header = Buffer.concat([this.#header, chunk.subarray(at, at + take)]);
      at += take;
      if (this.#header.length < HEADER_BYTES) break;
      const length = this.#header.readUIntLE(0, 3);
      this.#header = Buffer.alloc(0);
      const wanted = !this.#greeted || this.#awaitingPrepares > 0;
      const peek = wanted ? Math.min(length, SERVER_PEEK_BYTES) : 0;
      this.#skipRemaining = length - peek;
      if (peek > 0) {
        this.#peek = [];
        this.#peekRemaining = peek;
      } else if (wanted) {
        this.#onPacketStart(Buffer.alloc(0));
      }
    }
  }

  #onPacketStart(payload: Buffer): void {
    if (!this.#greeted) {
      this.#greeted = true;
      // Protocol 10 greeting: version byte, NUL-terminated server version, 4-byte thread id. 0xFF is an error packet.
      const end = payload.indexOf(0, 1);
      if (payload[0] === 10 && end > 0 && payload.length >= end + 5) this.#events.greeting(payload.readUInt32LE(end + 1));
      return;
    }
    if (this.#awaitingPrepares > 0) {
      this.#awaitingPrepares--;
      // COM_STMT_PREPARE_OK: 0x00, then the 4-byte statement id; anything else (0xFF) is an error.
      this.#events.prepared(payload[0] === 0 && payload.length >= 5 ? payload.readUInt32LE(1) : null);
    }
  }
}
