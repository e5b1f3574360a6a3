/** The error a view or request throws to answer the page with a given code. */
import type { FeedErrorCode } from '../protocol';

/** Thrown to refuse a message with `code`; the feed sends it as an `error` frame. */
export class FeedError extends Error {
  constructor(
    readonly code: FeedErrorCode, message: string,
    readonly extra: { subject?: string; resourceVersion?: string; issues?: string[] } = {},
  ) {
    super(message);
    this.name = 'FeedError';
  }
}
