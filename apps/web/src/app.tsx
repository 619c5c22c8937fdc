// The chat page: header with the connection and a new-chat button, the conversation, and the
// composer with notices and the last reply's timings. The conversation comes from the SDK's useChat
// over the controller's store; notices and timings from the controller (page logic).
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AssistantMessage, ChatMessage, ConnectionState, Source, ToolCall, UserMessage } from '@chat-fleet/client';
import { useChat, type UseChat } from '@chat-fleet/client/react';
import type { ChatController, Notice, PageView } from './chat-controller.js';
import { isSafeLink, renderMarkdown } from './markdown.js';
import type { ReplyStats } from './reply-stats.js';
import { argumentsText, shownState, stateLabel, toolsSummary } from './tool-calls.js';

export function App({ controller }: { controller: ChatController }) {
  const chat = useChat(controller.store);
  const page = usePageView(controller);
  const log = useRef<HTMLElement>(null);
  const stick = useRef(true);
  const { messages } = chat;

  // Follow the stream while the reader is at the bottom; leave them be once they scroll up.
  useLayoutEffect(() => {
    const el = log.current;
    if (el !== null && stick.current) el.scrollTop = el.scrollHeight;
  });
  const onScroll = (): void => {
    const el = log.current;
    if (el !== null) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };
  const send = (text: string): boolean => {
    stick.current = true;
    return controller.send(text);
  };
  const loadOlder = (): void => {
    stick.current = false;
    void chat.loadOlder();
  };

  return (
    <div class="app">
      <header class="bar">
        <h1 class="brand">chat-fleet</h1>
        <ConnectionBadge state={chat.connection} />
        <button type="button" class="ghost" data-testid="new-chat" onClick={() => controller.newChat()}>
          New chat
        </button>
      </header>
      <main class="log" ref={log} onScroll={onScroll}>
        <div class="column" role="log" aria-live="polite" aria-label="Conversation">
          {chat.history.hasMore && (
            <button type="button" class="link older" data-testid="load-older" disabled={chat.history.loading} onClick={loadOlder}>
              {chat.history.loading ? 'Loading…' : 'Earlier messages'}
            </button>
          )}
          {chat.loading ? (
            <p class="empty">Loading the conversation…</p>
          ) : messages.length === 0 ? (
            <p class="empty">Ask anything. Enter sends, Shift+Enter starts a new line.</p>
          ) : null}
          {messages.map((m) => (
            <MessageView key={m.key} message={m} blockedUntil={chat.blockedUntil} onRetry={() => controller.retry(m.key)} />
          ))}
        </div>
      </main>
      <footer class="dock">
        <div class="column">
          <div class="dock-info">
            {page.notice !== undefined && <NoticeBar notice={page.notice} />}
            <StatsPanel stats={page.stats} />
          </div>
          <Composer chat={chat} canSend={(now) => controller.canSend(now)} onSend={send} onStop={() => chat.stop()} />
        </div>
      </footer>
    </div>
  );
}

function usePageView(controller: ChatController): PageView {
  const [view, setView] = useState(controller.getSnapshot());
  useEffect(() => {
    setView(controller.getSnapshot());
    return controller.subscribe(() => setView(controller.getSnapshot()));
  }, [controller]);
  return view;
}

/** Re-renders every `ms` while `active`, for countdowns. */
function useNow(active: boolean, ms = 250): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [active, ms]);
  return now;
}

const secondsLeft = (until: number, now: number): number => Math.max(0, Math.ceil((until - now) / 1000));

const STATE_LABEL: Record<ConnectionState, string> = {
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  offline: 'offline',
  closed: 'closed',
};

function ConnectionBadge({ state }: { state: ConnectionState }) {
  return (
    <span class="status" data-testid="connection-status" data-state={state} role="status">
      <span class="dot" aria-hidden="true" />
      {STATE_LABEL[state]}
    </span>
  );
}

function MessageView({ message, blockedUntil, onRetry }: { message: ChatMessage; blockedUntil: number; onRetry: () => void }) {
  return message.role === 'user' ? (
    <UserView message={message} blockedUntil={blockedUntil} onRetry={onRetry} />
  ) : (
    <AssistantView message={message} blockedUntil={blockedUntil} onRetry={onRetry} />
  );
}

function UserView({ message, blockedUntil, onRetry }: { message: UserMessage; blockedUntil: number; onRetry: () => void }) {
  return (
    <div class="turn user" data-status={message.status}>
      <div class="bubble" data-testid="chat-message-user">
        {message.text}
      </div>
      {message.status === 'unsent' && (
        <div class="meta error">
          {message.note ?? 'Not sent.'} <RetryButton blockedUntil={blockedUntil} onRetry={onRetry} />
        </div>
      )}
    </div>
  );
}

function AssistantView({ message, blockedUntil, onRetry }: { message: AssistantMessage; blockedUntil: number; onRetry: () => void }) {
  // Markdown is rendered again only when the text changed; the model's own HTML is escaped.
  const html = useMemo(() => renderMarkdown(message.text), [message.text]);
  const live = message.status === 'waiting' || message.status === 'streaming';
  const calls = message.toolCalls ?? NONE;
  const sources = message.sources ?? NONE;
  // Before the first token, the tools at work are what the reply shows.
  const running = message.status === 'waiting' && message.text === '' ? calls.filter((c) => c.state === 'running') : NONE;
  return (
    <div class={`turn assistant${live ? ' live' : ''}`} data-status={message.status}>
      {message.status === 'waiting' &&
        message.text === '' &&
        (running.length > 0 ? (
          <div class="tool-running" data-testid="tool-running">
            <span class="spinner" aria-hidden="true" />
            <span>
              Running <code>{running.map((c) => c.name).join(', ')}</code>…
            </span>
          </div>
        ) : (
          <div class="typing" aria-label="The assistant is replying">
            <span />
            <span />
            <span />
          </div>
        ))}
      <div
        class="bubble markdown"
        data-testid="chat-message-assistant"
        data-status={message.status}
        aria-busy={live}
        dangerouslySetInnerHTML={{ __html: html }}
      />
      {(calls.length > 0 || sources.length > 0) && <ReplyTools messageKey={message.key} calls={calls} sources={sources} live={live} />}
      {message.status === 'cancelled' && <div class="meta">Stopped.</div>}
      {message.status === 'length' && <div class="meta">Cut at the length limit.</div>}
      {message.status === 'error' && (
        <div class="meta error">
          {message.note ?? 'The reply failed.'} <RetryButton blockedUntil={blockedUntil} onRetry={onRetry} />
        </div>
      )}
    </div>
  );
}

const NONE: readonly never[] = [];

/** The tools a reply called and the sources it was given, collapsed under it; all of it as text, never HTML. */
function ReplyTools({ messageKey, calls, sources, live }: { messageKey: string; calls: readonly ToolCall[]; sources: readonly Source[]; live: boolean }) {
  return (
    <details class="tools" data-testid="tool-calls">
      <summary>{toolsSummary(calls, sources, live)}</summary>
      {calls.length > 0 && (
        <ol class="tool-list" aria-label="Tool calls">
          {calls.map((call) => (
            <ToolCallView key={call.callId} call={call} live={live} />
          ))}
        </ol>
      )}
      {sources.length > 0 && (
        <>
          <p class="tools-heading" id={`sources-${messageKey}`}>
            Sources
          </p>
          <ul class="source-list" data-testid="sources" aria-labelledby={`sources-${messageKey}`}>
            {sources.map((source) => (
              <li key={source.id} data-testid="source">
                {source.url !== undefined && isSafeLink(source.url) ? (
                  <>
                    <a href={source.url} target="_blank" rel="noopener noreferrer">
                      {source.title}
                    </a>
                    <span class="source-url">{source.url}</span>
                  </>
                ) : (
                  source.title
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </details>
  );
}

function ToolCallView({ call, live }: { call: ToolCall; live: boolean }) {
  const state = shownState(call, live);
  const args = argumentsText(call.arguments);
  return (
    <li class="tool-call" data-testid="tool-call" data-state={state} data-tool={call.name}>
      <div class="tool-head">
        <code class="tool-name">{call.name}</code>
        {args !== '' && <code class="tool-args">{args}</code>}
        <span class="tool-state">
          {state === 'running' && <span class="spinner" aria-hidden="true" />}
          {stateLabel(call, live)}
        </span>
      </div>
      {call.summary !== undefined && call.summary !== '' && <div class="tool-summary">{call.summary}</div>}
    </li>
  );
}

function RetryButton({ blockedUntil, onRetry }: { blockedUntil: number; onRetry: () => void }) {
  const now = useNow(blockedUntil > Date.now());
  const left = secondsLeft(blockedUntil, now);
  return (
    <button type="button" class="link" data-testid="chat-retry" disabled={left > 0} onClick={onRetry}>
      {left > 0 ? `Retry in ${left} s` : 'Retry'}
    </button>
  );
}

function NoticeBar({ notice }: { notice: Notice }) {
  const now = useNow(notice.until !== undefined);
  return (
    <div class={`notice ${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'} data-testid="chat-notice">
      {notice.text}
      {notice.until !== undefined && (
        <>
          {' '}
          in <span data-testid="chat-countdown">{secondsLeft(notice.until, now)}</span> s.
        </>
      )}
    </div>
  );
}

function StatsPanel({ stats }: { stats: ReplyStats | undefined }) {
  if (stats === undefined) return null;
  const ttft = stats.firstTokenMs === undefined ? '–' : `${Math.round(stats.firstTokenMs)} ms`;
  const rate = stats.tokensPerSec === undefined ? '–' : `${stats.tokensPerSec.toFixed(stats.tokensPerSec < 100 ? 1 : 0)} tok/s`;
  return (
    <dl class="stats" data-testid="reply-stats" aria-label="Last reply">
      <div>
        <dt>first token</dt>
        <dd data-testid="stats-ttft">{ttft}</dd>
      </div>
      <div>
        <dt>speed</dt>
        <dd data-testid="stats-rate">{rate}</dd>
      </div>
      <div>
        <dt>length</dt>
        <dd>
          {stats.completionTokens} tokens{stats.cached ? ' (cached)' : ''}
        </dd>
      </div>
    </dl>
  );
}

interface ComposerProps {
  chat: UseChat;
  canSend: (now: number) => boolean;
  onSend: (text: string) => boolean;
  onStop: () => void;
}

function Composer({ chat, canSend, onSend, onStop }: ComposerProps) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  const now = useNow(chat.blockedUntil > Date.now());
  const ready = canSend(now);

  // Grow with the text up to the CSS max-height, then scroll.
  useLayoutEffect(() => {
    const el = input.current;
    if (el === null) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight}px`;
  }, [text]);
  useEffect(() => {
    if (window.matchMedia('(pointer: fine)').matches) input.current?.focus();
  }, []);

  const submit = (): void => {
    if (text.trim() !== '' && onSend(text)) setText('');
  };
  const wide = useMemo(() => window.matchMedia('(min-width: 36rem)').matches, []);
  const placeholder =
    chat.connection === 'offline'
      ? 'Offline…'
      : chat.connection !== 'connected'
        ? 'Connecting…'
        : wide
          ? 'Message (Enter sends, Shift+Enter for a new line)'
          : 'Message';

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <textarea
        ref={input}
        data-testid="chat-input"
        aria-label="Message"
        rows={1}
        value={text}
        placeholder={placeholder}
        enterkeyhint="send"
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          // Enter sends; Shift+Enter (and Enter while an input method composes) breaks the line.
          if (e.key !== 'Enter' || e.shiftKey || e.isComposing) return;
          e.preventDefault();
          submit();
        }}
      />
      {chat.active !== undefined && (
        <button type="button" class="stop" data-testid="chat-stop" onClick={onStop} disabled={chat.stopping} aria-label="Stop the reply">
          {chat.stopping ? 'Stopping…' : 'Stop'}
        </button>
      )}
      <button type="submit" class="send" data-testid="chat-send" disabled={!ready || text.trim() === ''}>
        Send
      </button>
    </form>
  );
}
