/**
 * The WAL of a long-running server does not keep the size of its largest burst: once it has been checkpointed and
 * starts over, SQLite cuts it back to journal_size_limit (4 MiB). Without the limit, a burst of writes (or a backup
 * reader that kept a snapshot open while Alexa refreshed) would leave a WAL that large on disk for months.
 */
import { expect } from '@jest/globals';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';

const LIMIT = 4 * 1024 * 1024;

it('a WAL grown past 4 MiB by one burst is cut back to 4 MiB by the next write after the checkpoint', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'maoauth-wal-'));
  const store = openSqliteStore(dir);
  try {
    const wal = path.join(dir, 'oauth.sqlite-wal');
    const pad = 'x'.repeat(2000);
    // One transaction of 3,500 rows of 2 KB (a WAL of about 16 MB); its commit checkpoints all of it (no reader
    // holds a snapshot), so the next write starts the WAL over.
    store.transaction((tx) => {
      for (let i = 0; i < 3500; i++) tx.put(`token:${String(i).padStart(5, '0')}`, { pad }, Date.now() + 3_600_000);
    });
    expect(statSync(wal).size).toBeGreaterThan(LIMIT);
    store.transaction((tx) => tx.put('grant:after-the-burst', { pad: 'y' }));
    expect(statSync(wal).size).toBeLessThanOrEqual(LIMIT);
    expect(store.read((tx) => tx.get<{ pad: string }>('token:03499'))?.pad).toBe(pad);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
