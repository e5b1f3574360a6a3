/** File triggers on the node: watching the paths of the node's file triggers and publishing their changes. */
export { combineFileEvents, FileDebouncer, fileEventOf, type DebouncedChange } from './file-events';
export { ignoredOutside, nearestExistingDir, normalWatchPath, startFileWatch, withinTarget, type FileWatch } from './file-watch';
export { fileChangeMsgId, fileTriggersClient, startFileTriggers, type FileTriggers, type FileTriggersClient } from './file-triggers';
