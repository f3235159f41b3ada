/**
 * Notes for the person running the command that `lib/` raises on its own (e.g. a folder it
 * closed to other users), queued here and printed once by main.ts at the end of the command,
 * since `lib/` never prints. Part of the floor: imports nothing.
 */

const queued: string[] = [];

/** Queues one note (a sentence, no `note:` prefix). */
export function queueNote(note: string): void {
  queued.push(note);
}

/** The notes queued in this process (and forgets them); the caller prints them. */
export function takeNotes(): string[] {
  return queued.splice(0);
}
