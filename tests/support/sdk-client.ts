// A test that acts as an ordinary client uses the SDK's ChatClient (session, socket, send, acks,
// reconnect and resume), over the `ws` package, and records every frame the client decoded so the
// test can judge the wire itself with the whole-reply rule (replies.ts).
import { ChatApi, ChatClient, decodeServerFrame, type ChatClientOptions, type Reply, type ServerFrame } from '@chat-fleet/client';
import WebSocket from 'ws';

export type SdkFrame = ServerFrame & { at: number };

export interface RecordingClient {
  readonly client: ChatClient;
  /** Every frame the client read, in order, over all its sockets. */
  readonly frames: SdkFrame[];
}

type Gateways = string | { url: string } | ReadonlyArray<string | { url: string }>;

function urls(gateways: Gateways): string[] {
  const list = Array.isArray(gateways) ? gateways : [gateways];
  return list.map((g: string | { url: string }) => (typeof g === 'string' ? g : g.url));
}

/** The REST API of one or more gateways (tried in order). */
export function api(gateways: Gateways): ChatApi {
  return new ChatApi({ gateways: urls(gateways) });
}

/** A ChatClient for `gateways` (the first is used first) that records what it reads; not connected yet. */
export function recordingClient(gateways: Gateways, options: Partial<ChatClientOptions> = {}): RecordingClient {
  const frames: SdkFrame[] = [];
  const client = new ChatClient({
    gateways: urls(gateways),
    createSocket: (url) => new WebSocket(url, { perMessageDeflate: false }),
    sessionBody: { userId: `u-${Math.random().toString(36).slice(2)}` },
    decode: (text) => {
      const frame = decodeServerFrame(text);
      if (frame !== undefined) frames.push({ ...frame, at: performance.now() });
      return frame;
    },
    ...options,
  });
  return { client, frames };
}

/** Creates a session and connects a recording client to it. */
export async function connectedClient(gateways: Gateways, options: Partial<ChatClientOptions> = {}): Promise<RecordingClient> {
  const c = recordingClient(gateways, options);
  await c.client.connect();
  return c;
}

/** Resolves once the reply has at least `n` tokens; rejects if it ends first. */
export function tokensIn(reply: Reply, n: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (reply.lastSeq >= n) return resolve();
    const off = reply.on('token', (_text, seq) => {
      if (seq < n) return;
      off();
      resolve();
    });
    void reply.finished.then((outcome) => {
      off();
      if (reply.lastSeq >= n) resolve();
      else reject(new Error(`reply ${reply.messageId ?? reply.id} ended (${outcome.status}) before ${n} tokens`));
    });
  });
}
