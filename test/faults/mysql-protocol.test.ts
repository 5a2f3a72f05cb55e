/**
 * The fault proxy's protocol parsing on byte streams built here, split into chunks every possible way: a command
 * packet spanning chunks comes out whole, several packets in one chunk come out one by one, and the bytes that come
 * out are exactly the bytes that went in, in order.
 */
import { describe, expect, it } from 'vitest';
import { ClientStreamParser, Command, ServerStreamWatcher, type ClientCommand } from './mysql-protocol.js';
import { seeded } from '../support/random.js';

function packet(sequenceId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequenceId;
  return Buffer.concat([header, payload]);
}

const query = (sql: string): Buffer => packet(0, Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(sql, 'utf8')]));
const withId = (command: number, id: number): Buffer => {
  const payload = Buffer.alloc(10);
  payload[0] = command;
  payload.writeUInt32LE(id, 1);
  return packet(0, payload);
};

/** The client's first packet (sequence 1, not a command) with these capability flags. */
function handshakeResponse(flags: number): Buffer {
  const payload = Buffer.alloc(40, 7);
  payload.writeUInt32LE(flags, 0);
  return packet(1, payload);
}

/** A client stream: the handshake response (mysql2's usual flags: no TLS, no compression), then commands. */
const handshake = handshakeResponse(0x000ff7cf & ~0x820);
const stream = [
  handshake,
  query('SET NAMES utf8mb4'),
  packet(0, Buffer.concat([Buffer.from([Command.STMT_PREPARE]), Buffer.from('INSERT INTO t VALUES (?)')])),
  withId(Command.STMT_EXECUTE, 9),
  query('COMMIT -- é'),
  withId(Command.STMT_CLOSE, 9),
  packet(0, Buffer.from([Command.QUIT])),
];
const bytes = Buffer.concat(stream);

function run(chunks: Buffer[]): { out: Buffer; commands: ClientCommand[]; wholePackets: boolean } {
  const parser = new ClientStreamParser((id) => (id === 9 ? 'INSERT INTO t VALUES (?)' : null));
  const out: Buffer[] = [];
  const commands: ClientCommand[] = [];
  let wholePackets = true;
  for (const chunk of chunks) {
    for (const segment of parser.push(chunk)) {
      out.push(segment.bytes);
      if (segment.command !== null) {
        commands.push(segment.command);
        // A command segment is exactly one packet: its header's length covers the rest.
        wholePackets &&= segment.bytes.readUIntLE(0, 3) + 4 === segment.bytes.length && segment.bytes.length === segment.command.bytes;
      }
    }
  }
  return { out: Buffer.concat(out), commands, wholePackets };
}

const expected = [
  { kind: 'query', sql: 'SET NAMES utf8mb4', statementId: null },
  { kind: 'prepare', sql: 'INSERT INTO t VALUES (?)', statementId: null },
  { kind: 'execute', sql: 'INSERT INTO t VALUES (?)', statementId: 9 },
  { kind: 'query', sql: 'COMMIT -- é', statementId: null },
  { kind: 'close_statement', sql: null, statementId: 9 },
  { kind: 'quit', sql: null, statementId: null },
];

describe('ClientStreamParser', () => {
  it('finds every command in one chunk holding all packets', () => {
    const result = run([bytes]);
    expect(result.out.equals(bytes)).toBe(true);
    expect(result.wholePackets).toBe(true);
    expect(result.commands.map(({ kind, sql, statementId }) => ({ kind, sql, statementId }))).toEqual(expected);
  });

  it('gives the same commands and the same bytes for every split into two and three chunks', () => {
    for (let a = 0; a <= bytes.length; a++) {
      const two = run([bytes.subarray(0, a), bytes.subarray(a)]);
      expect(two.out.equals(bytes), `split at ${a}`).toBe(true);
      expect(two.wholePackets).toBe(true);
      expect(two.commands.map((c) => c.sql)).toEqual(expected.map((c) => c.sql));
    }
    const random = seeded(7);
    for (let i = 0; i < 500; i++) {
      const [a, b] = [Math.floor(random() * bytes.length), Math.floor(random() * bytes.length)].sort((x, y) => x - y) as [number, number];
      const three = run([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]);
      expect(three.out.equals(bytes), `split at ${a}, ${b}`).toBe(true);
      expect(three.commands.map((c) => c.kind)).toEqual(expected.map((c) => c.kind));
    }
  });

  it('byte by byte', () => {
    const result = run([...bytes].map((byte) => Buffer.from([byte])));
    expect(result.out.equals(bytes)).toBe(true);
    expect(result.commands.map((c) => c.sql)).toEqual(expected.map((c) => c.sql));
  });

  it('passes a multi-packet statement through: the first packet is the command, continuation packets are plain bytes', () => {
    const first = packet(0, Buffer.concat([Buffer.from([Command.QUERY]), Buffer.alloc(100, 0x41)]));
    const continuation = packet(1, Buffer.alloc(50, 0x42)); // sequence 1: not a command, even starting with 0x03
    continuation[4] = Command.QUERY;
    const input = Buffer.concat([handshake, first, continuation, query('SELECT 1')]);
    const result = run([input]);
    expect(result.commands.map((c) => c.sql)).toEqual(['A'.repeat(100), 'SELECT 1']);
    expect(result.out.equals(input)).toBe(true);
  });

  it.each([
    ['TLS', 0x800],
    ['compression', 0x20],
  ])('stops looking after a first packet that asks for %s (the rest is not plain packets)', (_what, flag) => {
    const parser = new ClientStreamParser(() => null);
    const input = Buffer.concat([handshakeResponse(0x000ff7cf | flag), query('SELECT 1'), Buffer.from([0x16, 0x03, 0x01, 0x00])]);
    const segments = [...parser.push(input.subarray(0, 30)), ...parser.push(input.subarray(30))];
    expect(segments.every((segment) => segment.command === null)).toBe(true);
    expect(Buffer.concat(segments.map((segment) => segment.bytes)).equals(input)).toBe(true);
  });
});

describe('ServerStreamWatcher', () => {
  const greeting = packet(0, Buffer.concat([Buffer.from([10]), Buffer.from('5.5.5-10.11.6-MariaDB\0'), Buffer.from([0x39, 0x30, 0, 0]), Buffer.alloc(40, 1)]));
  const ok = packet(2, Buffer.from([0, 0, 0, 2, 0, 0, 0]));
  const prepareOk = packet(1, Buffer.from([0, 0x2a, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0]));
  const columnDefinition = packet(2, Buffer.alloc(30, 3));
  const error = packet(1, Buffer.concat([Buffer.from([0xff, 0x28, 0x04]), Buffer.from('#42000syntax')]));

  function watch(chunks: Buffer[], prepares: number[]): { threadId: number | null; prepared: (number | null)[] } {
    let threadId: number | null = null;
    const prepared: (number | null)[] = [];
    const watcher = new ServerStreamWatcher({ greeting: (id) => (threadId = id), prepared: (id) => prepared.push(id) });
    chunks.forEach((chunk, i) => {
      if (prepares.includes(i)) watcher.expectPrepareAnswer();
      watcher.observe(chunk);
    });
    return { threadId, prepared };
  }

  it('reads the thread id from the greeting and the statement id from a prepare answer, split anywhere', () => {
    const answer = Buffer.concat([prepareOk, columnDefinition]);
    for (let a = 0; a <= answer.length; a++) {
      const result = watch([Buffer.concat([greeting, ok]), answer.subarray(0, a), answer.subarray(a), error], [1, 3]);
      expect(result.threadId).toBe(0x3039);
      expect(result.prepared).toEqual([0x2a, null]);
    }
  });
});
