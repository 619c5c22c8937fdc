// The reader's conversations: new, search by title (the pages loaded; scrolling to the end, or the
// More button, loads the next), open, rename in place and delete after a confirm. On a narrow screen
// it is a panel over the chat, opened from the header's button; Escape or a pick closes it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ChatApiError, type SessionListItem } from '@chat-fleet/client';
import type { ChatController } from './chat-controller.js';
import { matching } from './conversation-list.js';
import { currentLocale, formatDate, t } from './i18n.js';
import { useExternal } from './use-external.js';

interface SidebarProps {
  controller: ChatController;
  /** The conversation shown. */
  currentId: string | undefined;
  /** Opened over the chat (narrow screens). */
  open: boolean;
  onClose: () => void;
}

export function Sidebar({ controller, currentId, open, onClose }: SidebarProps) {
  const list = useExternal(controller.conversations.subscribe, controller.conversations.getSnapshot);
  const [query, setQuery] = useState('');
  const [renaming, setRenaming] = useState<string | undefined>(undefined);
  const [deleting, setDeleting] = useState<SessionListItem | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const panel = useRef<HTMLElement>(null);
  const shown = matching(list.items, query, currentLocale());

  // Opened over the chat: the keyboard goes into it.
  useEffect(() => {
    if (open) panel.current?.querySelector<HTMLElement>('[data-testid="conversation-new"]')?.focus();
  }, [open]);

  const loadMoreNearEnd = (e: Event): void => {
    const el = e.currentTarget as HTMLElement;
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 120) void controller.conversations.loadMore();
  };
  const pick = (sessionId: string): void => {
    setProblem(undefined);
    void controller.openConversation(sessionId);
    onClose();
  };
  const fail = (key: 'sidebar.renameFailed' | 'sidebar.deleteFailed', err: unknown): void => {
    setProblem(t(key, { message: err instanceof ChatApiError ? err.message : String(err) }));
  };

  return (
    <nav
      id="conversations"
      ref={panel}
      class={`sidebar${open ? ' open' : ''}`}
      aria-label={t('sidebar.label')}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) onClose();
      }}
    >
      <div class="sidebar-head">
        <button
          type="button"
          class="new-chat"
          data-testid="conversation-new"
          onClick={() => {
            controller.newChat();
            onClose();
          }}
        >
          <PlusIcon />
          {t('sidebar.new')}
        </button>
        <button type="button" class="ghost icon sidebar-close" aria-label={t('sidebar.close')} onClick={onClose}>
          <CloseIcon />
        </button>
      </div>
      <input
        type="search"
        class="search"
        data-testid="conversation-search"
        aria-label={t('sidebar.search')}
        placeholder={t('sidebar.search')}
        value={query}
        onInput={(e) => setQuery(e.currentTarget.value)}
      />
      <p class="sr-only" role="status">
        {query.trim() === '' ? '' : t('sidebar.count', { count: shown.length })}
      </p>
      <ul class="conversations" data-testid="conversation-list" onScroll={loadMoreNearEnd}>
        {shown.map((s) => (
          <ConversationItem
            key={s.sessionId}
            summary={s}
            current={s.sessionId === currentId}
            renaming={renaming === s.sessionId}
            onOpen={() => pick(s.sessionId)}
            onRename={() => {
              setProblem(undefined);
              setRenaming(s.sessionId);
            }}
            onRenamed={(title) => {
              setRenaming(undefined);
              if (title !== undefined && title !== s.title) controller.conversations.rename(s.sessionId, title).catch((err: unknown) => fail('sidebar.renameFailed', err));
            }}
            onDelete={() => {
              setProblem(undefined);
              setDeleting(s);
            }}
          />
        ))}
      </ul>
      {shown.length === 0 && !list.loading && (
        <p class="sidebar-note">{list.failed ? t('sidebar.loadFailed') : query.trim() !== '' ? t('sidebar.noMatch', { query: query.trim() }) : t('sidebar.empty')}</p>
      )}
      {problem !== undefined && (
        <p class="sidebar-note error" role="alert">
          {problem}
        </p>
      )}
      {list.hasMore && (
        <button type="button" class="link more" data-testid="conversation-more" disabled={list.loading} onClick={() => void controller.conversations.loadMore()}>
          {list.loading ? t('sidebar.loading') : t('sidebar.more')}
        </button>
      )}
      <ConfirmDelete
        summary={deleting}
        onAnswer={(confirmed) => {
          const target = deleting;
          setDeleting(undefined);
          if (confirmed && target !== undefined) controller.deleteConversation(target.sessionId).catch((err: unknown) => fail('sidebar.deleteFailed', err));
        }}
      />
    </nav>
  );
}

interface ItemProps {
  summary: SessionListItem;
  current: boolean;
  renaming: boolean;
  onOpen: () => void;
  onRename: () => void;
  /** The new title, or undefined when the rename was cancelled. */
  onRenamed: (title: string | undefined) => void;
  onDelete: () => void;
}

function ConversationItem({ summary, current, renaming, onOpen, onRename, onRenamed, onDelete }: ItemProps) {
  const title = summary.title || t('sidebar.untitled');
  const opener = useRef<HTMLButtonElement>(null);
  const wasRenaming = useRef(false);
  // Back from the rename field, the keyboard is where it was.
  useEffect(() => {
    if (wasRenaming.current && !renaming) opener.current?.focus();
    wasRenaming.current = renaming;
  }, [renaming]);
  return (
    <li class={`conversation${current ? ' current' : ''}`} data-testid="conversation-item" data-session-id={summary.sessionId}>
      {renaming ? (
        <RenameForm title={summary.title} onDone={onRenamed} />
      ) : (
        <>
          <button type="button" ref={opener} class="open" data-testid="conversation-open" aria-current={current ? 'page' : undefined} onClick={onOpen}>
            {/* A title reads in its own direction (an English title in the Arabic interface), cut at its end. */}
            <span class={`title${summary.title === '' ? ' untitled' : ''}`} data-testid="conversation-title" dir={summary.title === '' ? undefined : 'auto'}>
              {title}
            </span>
            <time class="when" dateTime={summary.updatedAt}>
              {when(summary.updatedAt)}
            </time>
          </button>
          <button type="button" class="ghost icon" data-testid="conversation-rename" aria-label={t('sidebar.renameLabel', { title })} title={t('sidebar.rename')} onClick={onRename}>
            <PencilIcon />
          </button>
          <button type="button" class="ghost icon" data-testid="conversation-delete" aria-label={t('sidebar.deleteLabel', { title })} title={t('sidebar.delete')} onClick={onDelete}>
            <TrashIcon />
          </button>
        </>
      )}
    </li>
  );
}

function RenameForm({ title, onDone }: { title: string; onDone: (title: string | undefined) => void }) {
  const [value, setValue] = useState(title);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  return (
    <form
      class="rename"
      onSubmit={(e) => {
        e.preventDefault();
        onDone(value.trim() === '' ? undefined : value.trim());
      }}
    >
      <input
        ref={input}
        data-testid="conversation-rename-input"
        aria-label={t('sidebar.nameLabel')}
        maxLength={120}
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key !== 'Escape') return;
          e.stopPropagation(); // only the rename is cancelled, the panel stays open
          onDone(undefined);
        }}
      />
      <button type="submit" class="small" data-testid="conversation-rename-save">
        {t('sidebar.save')}
      </button>
      <button type="button" class="ghost small" onClick={() => onDone(undefined)}>
        {t('sidebar.cancel')}
      </button>
    </form>
  );
}

/** A modal confirm (the browser's dialog: focus kept inside, Escape cancels); focus goes back where it was. */
function ConfirmDelete({ summary, onAnswer }: { summary: SessionListItem | undefined; onAnswer: (confirmed: boolean) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const returnTo = useRef<Element | null>(null);
  useEffect(() => {
    const el = dialog.current;
    if (el === null) return;
    if (summary !== undefined && !el.open) {
      returnTo.current = document.activeElement;
      el.showModal();
    } else if (summary === undefined && el.open) {
      el.close();
    }
    if (summary === undefined && returnTo.current instanceof HTMLElement && returnTo.current.isConnected) returnTo.current.focus();
  }, [summary]);
  const title = summary === undefined ? '' : summary.title || t('sidebar.untitled');
  return (
    <dialog ref={dialog} class="confirm" data-testid="conversation-delete-dialog" aria-labelledby="confirm-delete-title" onCancel={() => onAnswer(false)}>
      <h2 id="confirm-delete-title">{t('sidebar.confirmDelete', { title })}</h2>
      <p>{t('sidebar.confirmDeleteText')}</p>
      <div class="confirm-actions">
        <button type="button" class="ghost" onClick={() => onAnswer(false)}>
          {t('sidebar.cancel')}
        </button>
        <button type="button" class="danger" data-testid="conversation-delete-confirm" onClick={() => onAnswer(true)}>
          {t('sidebar.delete')}
        </button>
      </div>
    </dialog>
  );
}

/** Today: the time; this year: day and month; before: the date. In the reader's language. */
function when(iso: string, now = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  if (at.toDateString() === now.toDateString()) return formatDate(at, { timeStyle: 'short' });
  if (at.getFullYear() === now.getFullYear()) return formatDate(at, { month: 'short', day: 'numeric' });
  return formatDate(at, { dateStyle: 'medium' });
}

const icon = (d: string) => (
  <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true" focusable="false">
    <path d={d} stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round" fill="none" />
  </svg>
);
const PlusIcon = () => icon('M10 4v12M4 10h12');
const CloseIcon = () => icon('M5 5l10 10M15 5L5 15');
const PencilIcon = () => icon('M13.5 3.5l3 3L7 16H4v-3z');
const TrashIcon = () => icon('M4 6h12M8 6V4h4v2M6 6l1 10h6l1-10');
