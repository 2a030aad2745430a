// The one place status and doctor open the database: read-only, through the
// project's reader (src/store/reader.ts), so that whatever guarantees the
// shared read side gives (no write lock, no -shm/-wal created) hold here too.
import { StoreReader } from "../store/reader.ts";

export function openRecord(path: string): StoreReader {
  return new StoreReader(path);
}
