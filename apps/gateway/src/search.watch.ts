/** The gateway's ProjectionWatch of the search index (the timeline's is CommandsModule's ProjectionWatch). */
export const SEARCH_WATCH = Symbol('SEARCH_WATCH');
