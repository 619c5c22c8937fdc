// policy_search: retrieval over the airline's policy documents. Each paragraph is indexed (BM25+
// through minisearch, the title boosted); a search returns the best paragraph of each matching
// document, with the documents as `sources`, the shape the worker turns into a `sources` frame.
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import MiniSearch from 'minisearch';
import { z } from 'zod';
import { POLICIES, type PolicyDocument } from './policies.js';

export const SourceSchema = z.object({ id: z.string(), title: z.string(), url: z.string() });

export const PassageSchema = SourceSchema.extend({ text: z.string(), score: z.number() });

export const PolicySearchResultSchema = z.object({
  passages: z.array(PassageSchema),
  sources: z.array(SourceSchema),
});

export type Passage = z.infer<typeof PassageSchema>;
export type PolicySearchResult = z.infer<typeof PolicySearchResultSchema>;

export const DEFAULT_PASSAGES = 3;
export const MAX_PASSAGES = 5;

/** A paragraph scoring less matched only a weak word or two (BM25+ scores; a paragraph on the question's topic scores 10 and up). */
export const MIN_SCORE = 2;

/** Nor is one kept under a fifth of the best: it shares a word with the question in passing, like "policy" in most titles. */
const MIN_SHARE_OF_BEST = 0.2;

const STOP_WORDS = new Set(
  (
    'a about after all also am an and any are as at be been before being but by can could do does did for from get got ' +
    'had has have how i if in into is it its just me may might my no not of on or our please so some than that the their ' +
    'them then there these they this to too us was we were what when where which who why will with would you your'
  ).split(' '),
);

interface IndexedParagraph {
  key: string;
  documentId: string;
  title: string;
  keywords: string;
  text: string;
}

/** Lower case, stop words out, a plural `s` off: the same on both sides of the index. */
function indexTerm(term: string): string | null {
  const word = term.toLowerCase();
  if (STOP_WORDS.has(word)) return null;
  return word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word) ? word.slice(0, -1) : word;
}

/** A query word is also cut to its stem (`rebooking` → `rebook`) and then matched as a prefix, so it finds `rebooked` too. */
function queryTerm(term: string): string | null {
  const word = indexTerm(term);
  if (word === null) return null;
  const stem = word.replace(/(ing|ed)$/, '');
  return stem.length >= 4 ? stem : word;
}

function buildIndex(documents: readonly PolicyDocument[]): MiniSearch<IndexedParagraph> {
  const index = new MiniSearch<IndexedParagraph>({
    idField: 'key',
    fields: ['title', 'keywords', 'text'],
    storeFields: ['documentId', 'text'],
    processTerm: indexTerm,
    searchOptions: { processTerm: queryTerm, boost: { title: 2, keywords: 2 }, prefix: (term) => term.length >= 3 },
  });
  index.addAll(documents.flatMap((doc) => doc.paragraphs.map((text, i) => ({ key: `${doc.id}#${i}`, documentId: doc.id, title: doc.title, keywords: doc.keywords, text }))));
  return index;
}

/** Searches one fixed set of documents; built once, read by any number of requests. */
export class PolicyIndex {
  private readonly index: MiniSearch<IndexedParagraph>;
  private readonly byId: ReadonlyMap<string, PolicyDocument>;

  constructor(documents: readonly PolicyDocument[] = POLICIES) {
    this.index = buildIndex(documents);
    this.byId = new Map(documents.map((doc) => [doc.id, doc]));
  }

  /** The best paragraph of each of the `limit` best documents that score enough, best first. */
  search(query: string, limit = DEFAULT_PASSAGES): PolicySearchResult {
    const passages: Passage[] = [];
    const seen = new Set<string>();
    const hits = this.index.search(query);
    const floor = Math.max(MIN_SCORE, (hits[0]?.score ?? 0) * MIN_SHARE_OF_BEST);
    for (const hit of hits) {
      if (passages.length >= limit || hit.score < floor) break;
      const doc = this.byId.get(hit.documentId as string);
      if (doc === undefined || seen.has(doc.id)) continue;
      seen.add(doc.id);
      passages.push({ id: doc.id, title: doc.title, url: doc.url, text: hit.text as string, score: Math.round(hit.score * 1000) / 1000 });
    }
    return { passages, sources: passages.map(({ id, title, url }) => ({ id, title, url })) };
  }
}

/** The passages as the model reads them: `[id] title`, then the text. */
export function formatPassages(query: string, result: PolicySearchResult): string {
  if (result.passages.length === 0) return `No policy matches "${query}".`;
  return result.passages.map((p) => `[${p.id}] ${p.title}\n${p.text}`).join('\n\n');
}

export function registerPolicySearch(server: McpServer, index: PolicyIndex): RegisteredTool {
  return server.registerTool(
    'policy_search',
    {
      title: 'Airline policy search',
      description:
        "Searches the airline's policies (rebooking, refunds, cancellations, baggage, delays and compensation, name changes, pets, special assistance) and returns the most relevant passages, each with its document's id, title and URL. Use it for any question about what the airline allows, charges or owes; cite the passages by id.",
      inputSchema: {
        query: z.string().trim().min(1).max(500).describe('The question or keywords, e.g. "rebooking after a cancelled flight"'),
        limit: z.number().int().min(1).max(MAX_PASSAGES).default(DEFAULT_PASSAGES).describe(`How many passages at most (1-${MAX_PASSAGES})`),
      },
      outputSchema: PolicySearchResultSchema.shape,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ query, limit }) => {
      const result = index.search(query, limit);
      return { content: [{ type: 'text', text: formatPassages(query, result) }], structuredContent: result };
    },
  );
}
