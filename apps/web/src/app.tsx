// The chat page: the reader's conversations beside the chat (folded away behind a button on a
// narrow screen), a header with the connection and the language, the conversation, and the composer
// with notices and the last reply's timings. The conversation comes from the SDK's useChat over the
// controller's store; notices, timings and the conversation list from the controller (page logic).
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AssistantMessage, ChatMessage, ConnectionState, Source, ToolCall, UserMessage } from '@chat-fleet/client';
import { useChat, type UseChat } from '@chat-fleet/client/react';
import type { ChatController, Notice } from './chat-controller.js';
import { copyCodeOnClick } from './copy-code.js';
import { useHighlighter } from './highlighter.js';
import { formatNumber, setLocale, t, useLocale } from './i18n.js';
import { LOCALES, type LocaleTag } from './locales.js';
import { hasNamedCodeBlock, isSafeLink, renderMarkdown, type MarkdownLabels } from './markdown.js';
import type { ReplyStats } from './reply-stats.js';
import { Sidebar } from './sidebar.js';
import { useExternal } from './use-external.js';
import { argumentsText, shownState, stateLabel, toolsSummary } from './tool-calls.js';

export function App({ controller }: { controller: ChatController }) {
  const locale = useLocale();
  const chat = useChat(controller.store);
  const page = useExternal(controller.subscribe, controller.getSnapshot);
  const log = useRef<HTMLElement>(null);
  const stick = useRef(true);
  const toggle = useRef<HTMLButtonElement>(null);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const { messages } = chat;
  const labels = useMemo<MarkdownLabels>(() => ({ copy: t('code.copy'), code: t('code.label'), table: t('table.label') }), [locale]);
  const now = useNow(chat.blockedUntil > Date.now());
  const canRegenerate = chat.connection === 'connected' && chat.canRegenerate(now);

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
  const closeSidebar = (): void => setSidebarOpen(false);
  // Closed, the panel gives the keyboard back to its button (once the chat is no longer inert).
  const wasOpen = useRef(false);
  useEffect(() => {
    if (wasOpen.current && !sidebarOpen) toggle.current?.focus();
    wasOpen.current = sidebarOpen;
  }, [sidebarOpen]);

  return (
    <div class={`app${sidebarOpen ? ' sidebar-open' : ''}`}>
      <Sidebar controller={controller} currentId={chat.session?.sessionId} open={sidebarOpen} onClose={closeSidebar} />
      {sidebarOpen && <div class="backdrop" aria-hidden="true" onClick={closeSidebar} />}
      {/* Open over the chat (narrow screens only have the button), the panel holds the keyboard: what is behind it is inert. */}
      <div class="chat" inert={sidebarOpen}>
        <header class="bar">
          <button
            type="button"
            ref={toggle}
            class="ghost icon sidebar-toggle"
            data-testid="sidebar-toggle"
            aria-label={t('sidebar.toggle')}
            aria-expanded={sidebarOpen}
            aria-controls="conversations"
            onClick={() => setSidebarOpen((open) => !open)}
          >
            <MenuIcon />
          </button>
          <h1 class="brand">chat-fleet</h1>
          <ConnectionBadge state={chat.connection} />
          <LanguageSwitch locale={locale} />
        </header>
        <main class="log" ref={log} onScroll={onScroll}>
          <div class="column" role="log" aria-live="polite" aria-label={t('log.label')}>
            {chat.history.hasMore && (
              <button type="button" class="link older" data-testid="load-older" disabled={chat.history.loading} onClick={loadOlder}>
                {chat.history.loading ? t('log.loading') : t('log.older')}
              </button>
            )}
            {chat.loading ? <p class="empty">{t('log.opening')}</p> : messages.length === 0 ? <p class="empty">{t('log.empty')}</p> : null}
            {messages.map((m, i) => (
              <MessageView
                key={m.key}
                message={m}
                labels={labels}
                blockedUntil={chat.blockedUntil}
                onRetry={() => controller.retry(m.key)}
                onRegenerate={canRegenerate && i === messages.length - 1 ? () => controller.regenerate() : undefined}
              />
            ))}
          </div>
        </main>
        <footer class="dock">
          <div class="column">
            <div class="dock-info">
              {page.notice !== undefined && <NoticeBar notice={page.notice} />}
              <StatsPanel stats={page.stats} />
            </div>
            <Composer chat={chat} canSend={(at) => controller.canSend(at)} onSend={send} onStop={() => chat.stop()} />
          </div>
        </footer>
      </div>
    </div>
  );
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

function MenuIcon() {
  return (
    <svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">
      <path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" fill="none" />
    </svg>
  );
}

function LanguageSwitch({ locale }: { locale: LocaleTag }) {
  return (
    <select
      class="language"
      data-testid="language-select"
      aria-label={t('language.label')}
      value={locale}
      onChange={(e) => void setLocale(e.currentTarget.value as LocaleTag, true)}
    >
      {LOCALES.map((l) => (
        <option key={l.tag} value={l.tag} lang={l.tag}>
          {l.name}
        </option>
      ))}
    </select>
  );
}

function ConnectionBadge({ state }: { state: ConnectionState }) {
  return (
    <span class="status" data-testid="connection-status" data-state={state} role="status">
      <span class="dot" aria-hidden="true" />
      {t(`connection.${state}`)}
    </span>
  );
}

interface MessageProps {
  message: ChatMessage;
  labels: MarkdownLabels;
  blockedUntil: number;
  onRetry: () => void;
  /** Set on the last reply when it may be asked for again. */
  onRegenerate: (() => void) | undefined;
}

function MessageView({ message, ...props }: MessageProps) {
  return message.role === 'user' ? <UserView message={message} {...props} /> : <AssistantView message={message} {...props} />;
}

function UserView({ message, blockedUntil, onRetry }: { message: UserMessage } & Omit<MessageProps, 'message'>) {
  return (
    <div class="turn user" data-status={message.status}>
      <div class="bubble" data-testid="chat-message-user" dir="auto">
        {message.text}
      </div>
      {message.status === 'unsent' && (
        <div class="meta error">
          {message.note ?? t('user.unsent')} <RetryButton blockedUntil={blockedUntil} onRetry={onRetry} />
        </div>
      )}
    </div>
  );
}

function AssistantView({ message, labels, blockedUntil, onRetry, onRegenerate }: { message: AssistantMessage } & Omit<MessageProps, 'message'>) {
  const highlighter = useHighlighter(hasNamedCodeBlock(message.text));
  // Markdown is rendered again only when the text, the language or the highlighter changed; the model's own HTML is escaped.
  const html = useMemo(() => renderMarkdown(message.text, { labels, highlighter }), [message.text, labels, highlighter]);
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
            <span>{t('reply.running', { tools: running.map((c) => c.name).join(', ') })}</span>
          </div>
        ) : (
          <div class="typing" role="img" aria-label={t('reply.typing')}>
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
        onClick={(e) => copyCodeOnClick(e, { copy: labels.copy, copied: t('code.copied'), failed: t('code.copyFailed') })}
        dangerouslySetInnerHTML={{ __html: html }}
      />
      {(calls.length > 0 || sources.length > 0) && <ReplyTools messageKey={message.key} calls={calls} sources={sources} live={live} />}
      {message.status === 'cancelled' && <div class="meta">{t('reply.stopped')}</div>}
      {message.status === 'length' && <div class="meta">{t('reply.length')}</div>}
      {message.status === 'error' && (
        <div class="meta error">
          {message.note ?? t('reply.failed')} <RetryButton blockedUntil={blockedUntil} onRetry={onRetry} />
        </div>
      )}
      {onRegenerate !== undefined && (
        <div class="reply-actions">
          <button type="button" class="ghost small" data-testid="chat-regenerate" onClick={onRegenerate}>
            <RegenerateIcon />
            {t('reply.regenerate')}
          </button>
        </div>
      )}
    </div>
  );
}

function RegenerateIcon() {
  return (
    <svg viewBox="0 0 20 20" width="14" height="14" aria-hidden="true" focusable="false">
      <path d="M16 10a6 6 0 1 1-1.8-4.3M16 3v4h-4" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" fill="none" />
    </svg>
  );
}

const NONE: readonly never[] = [];

/** The tools a reply called and the sources it was given, collapsed under it; all of it as text, never HTML. */
function ReplyTools({ messageKey, calls, sources, live }: { messageKey: string; calls: readonly ToolCall[]; sources: readonly Source[]; live: boolean }) {
  return (
    <details class="tools" data-testid="tool-calls">
      <summary>
        {toolsSummary(calls, sources, live)
          .map((part) => t(part.id, { count: part.count }))
          .join(' · ')}
      </summary>
      {calls.length > 0 && (
        <ol class="tool-list" aria-label={t('tools.calls')}>
          {calls.map((call) => (
            <ToolCallView key={call.callId} call={call} live={live} />
          ))}
        </ol>
      )}
      {sources.length > 0 && (
        <>
          <p class="tools-heading" id={`sources-${messageKey}`}>
            {t('tools.sourcesHeading')}
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
          {t(stateLabel(call, live))}
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
      {left > 0 ? t('reply.retryIn', { seconds: formatNumber(left) }) : t('reply.retry')}
    </button>
  );
}

/** Stands for the countdown in the notice's message, so the seconds can be an element of their own. */
const SECONDS = '\u{E000}';

function NoticeBar({ notice }: { notice: Notice }) {
  const now = useNow(notice.until !== undefined);
  const [before, after] = notice.until === undefined ? [notice.text, ''] : t('notice.countdown', { text: notice.text, seconds: SECONDS }).split(SECONDS);
  return (
    <div class={`notice ${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'} data-testid="chat-notice">
      {before}
      {notice.until !== undefined && <span data-testid="chat-countdown">{formatNumber(secondsLeft(notice.until, now))}</span>}
      {after}
    </div>
  );
}

function StatsPanel({ stats }: { stats: ReplyStats | undefined }) {
  if (stats === undefined) return null;
  const ttft = stats.firstTokenMs === undefined ? '–' : t('stats.ms', { ms: formatNumber(Math.round(stats.firstTokenMs), { useGrouping: false }) });
  const digits = stats.tokensPerSec !== undefined && stats.tokensPerSec < 100 ? 1 : 0;
  const rate = stats.tokensPerSec === undefined ? '–' : t('stats.rate', { rate: formatNumber(stats.tokensPerSec, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false }) });
  return (
    <dl class="stats" data-testid="reply-stats" aria-label={t('stats.label')}>
      <div>
        <dt>{t('stats.firstToken')}</dt>
        <dd data-testid="stats-ttft">{ttft}</dd>
      </div>
      <div>
        <dt>{t('stats.speed')}</dt>
        <dd data-testid="stats-rate">{rate}</dd>
      </div>
      <div>
        <dt>{t('stats.length')}</dt>
        <dd>
          {t('stats.tokens', { count: stats.completionTokens })}
          {stats.cached ? ` ${t('stats.cached')}` : ''}
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
      ? t('composer.offline')
      : chat.connection !== 'connected'
        ? t('composer.connecting')
        : wide
          ? t('composer.placeholderWide')
          : t('composer.placeholder');

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
        aria-label={t('composer.label')}
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
        <button type="button" class="stop" data-testid="chat-stop" onClick={onStop} disabled={chat.stopping} aria-label={t('composer.stopLabel')}>
          {chat.stopping ? t('composer.stopping') : t('composer.stop')}
        </button>
      )}
      <button type="submit" class="send" data-testid="chat-send" disabled={!ready || text.trim() === ''}>
        {t('composer.send')}
      </button>
    </form>
  );
}
