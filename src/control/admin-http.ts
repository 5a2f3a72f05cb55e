/**
 * The HTTP plumbing of the admin handler: bearer-token check, bounded JSON body reading, JSON answers, and the
 * scrubbing that keeps secrets out of them.
 *
 * @module
 * @internal
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request the handler answers with a status and a JSON message, never with a stack or a cause. */
export class AdminRequestError extends Error {
  /**
   * @param status - the HTTP status
   * @param message - what was wrong and what to send instead (no secret in it)
   * @param code - a stable code for the `code` field of the answer
   */
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** SHA-256 of a string: equal-length digests let `timingSafeEqual` compare tokens of any length in constant time. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Checks the tokens against an `Authorization` header in time independent of where they differ. */
export function bearerMatches(header: string | string[] | undefined, expected: readonly Buffer[]): boolean {
  if (typeof header !== 'string') return false;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  const given = digest(match?.[1] ?? '');
  let ok = false;
  for (const token of expected) ok = timingSafeEqual(given, token) || ok; // compare with every token, no early exit
  return ok && match !== null;
}

/** The digests of the accepted tokens. */
export function tokenDigests(tokens: readonly string[]): Buffer[] {
  return tokens.map(digest);
}

/**
 * Reads a JSON object body of at most `limit` bytes. Uses `req.body` when a body parser (Express's `express.json()`)
 * already read the stream.
 *
 * @throws {@link AdminRequestError} 413 (too large), 415 (not JSON), 400 (not a JSON object)
 */
export async function readJsonBody(req: IncomingMessage & { body?: unknown }, limit: number): Promise<Record<string, unknown>> {
  let value: unknown;
  if (req.body !== undefined && req.readableEnded) {
    value = typeof req.body === 'string' || Buffer.isBuffer(req.body) ? parseJson(String(req.body)) : req.body;
  } else {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      req.resume();
      throw new AdminRequestError(415, `The body must be JSON: send the header "Content-Type: application/json" (got ${type === '' ? 'none' : JSON.stringify(type.slice(0, 80))}).`, 'unsupported_media_type');
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    value = parseJson(await readLimited(req, limit));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AdminRequestError(400, 'The body must be a JSON object, e.g. {"mode":"source_first"}.', 'bad_request');
  }
  return value as Record<string, unknown>;
}

function tooLarge(limit: number): AdminRequestError {
  return new AdminRequestError(413, `The body is larger than ${limit} bytes; a mode request is a small JSON object.`, 'payload_too_large');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AdminRequestError(400, 'The body is not valid JSON; send an object such as {"mode":"source_first"}.', 'bad_request');
  }
}

function readLimited(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limit)); // the rest is drained and dropped, so the answer can still be sent
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (error) => {
      if (!failed) reject(new AdminRequestError(400, `The request body could not be read (${error.message}).`, 'bad_request'));
    });
  });
}

/**
 * Removes secrets from text sent back: the tokens, and credentials in URLs (`mysql://user:password@host`,
 * `redis://:password@host`).
 */
export function scrub(text: string, tokens: readonly string[]): string {
  let clean = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1[redacted]@');
  for (const token of tokens) clean = clean.split(token).join('[redacted]');
  return clean;
}

/**
 * Serialises an answer: functions and promises (a fall-back watch's `stop` and `done`) are left out, bigints
 * become strings, and every string is scrubbed of secrets.
 */
export function toJson(value: unknown, tokens: readonly string[]): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'function' || item instanceof Promise) return undefined;
    if (typeof item === 'bigint') return item.toString();
    if (typeof item === 'string') return scrub(item, tokens);
    if (item instanceof Map) return Object.fromEntries(item as Map<unknown, unknown>) as unknown;
    return item;
  });
}

/** Sends a JSON answer that no cache keeps. */
export function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}
