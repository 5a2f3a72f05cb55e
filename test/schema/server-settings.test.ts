import { createPool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFlavor, loadServerSettings, parseVersionNumber, SchemaCache } from '../../src/schema/index.js';
import { spawnTestServer, testServers } from '../support/databases.js';
import { canSpawnServers, type SpawnedServer } from '../support/servers.js';

describe('parseVersionNumber / detectFlavor', () => {
  it('turns x.y.z into a comparable number', () => {
    expect(parseVersionNumber('10.11.19-MariaDB-0+deb12u1')).toBe(101119);
    expect(parseVersionNumber('11.4.2-MariaDB-ubu2404-log')).toBe(110402);
    expect(parseVersionNumber('8.0.36')).toBe(80036);
    expect(parseVersionNumber('5.7.44-log')).toBe(50744);
    expect(parseVersionNumber('5.5.5-10.6.16-MariaDB')).toBe(100616);
    expect(parseVersionNumber('unknown')).toBe(0);
  });

  it('tells MariaDB from MySQL', () => {
    expect(detectFlavor('10.11.19-MariaDB-0+deb12u1')).toBe('mariadb');
    expect(detectFlavor('11.4.2', 'mariadb.org binary distribution')).toBe('mariadb');
    expect(detectFlavor('8.0.36', 'MySQL Community Server - GPL')).toBe('mysql');
  });
});

describe('loadServerSettings on the run servers', () => {
  it('reads version, flavor, binlog and session values in one round trip', async () => {
    const pool = createPool({ uri: testServers().sourceUrl, connectionLimit: 1 });
    try {
      let queries = 0;
      const settings = await loadServerSettings({
        query: (sql: string, values?: unknown[]) => {
          queries++;
          return pool.query(sql, values);
        },
      });
      expect(queries).toBe(1);
      expect(settings.versionNumber).toBe(parseVersionNumber(settings.version));
      expect(settings.versionNumber).toBeGreaterThan(50700);
      expect(['mariadb', 'mysql']).toContain(settings.flavor);
      const [[raw]] = await pool.query<RowDataPacket[]>('SELECT @@log_bin AS logBin, @@binlog_format AS format, @@server_id AS id');
      expect(settings.binlogFormat).toBe(Number(raw?.logBin) === 1 ? raw?.format : null);
      expect(settings.serverId).toBe(Number(raw?.id));
      expect(settings.autoIncrementIncrement).toBeGreaterThanOrEqual(1);
      expect(settings.sqlMode).toEqual(expect.any(String));
      expect(settings.timeZone).toEqual(expect.any(String));
      expect(Object.isFrozen(settings)).toBe(true);

      // session values are those of the connection that ran the query
      await pool.query("SET SESSION sql_mode = 'ANSI_QUOTES', SESSION time_zone = '+02:00'");
      const session = await loadServerSettings(pool);
      expect(session.sqlMode).toBe('ANSI_QUOTES');
      expect(session.timeZone).toBe('+02:00');
    } finally {
      await pool.end();
    }
  });
});

describe.skipIf(!canSpawnServers())('loadServerSettings on spawned servers', () => {
  let interleaved: SpawnedServer;
  let noBinlog: SpawnedServer;
  beforeAll(async () => {
    [interleaved, noBinlog] = await Promise.all([
      spawnTestServer({ name: 'settings', settings: { innodb_autoinc_lock_mode: 2, auto_increment_increment: 2, auto_increment_offset: 2, binlog_format: 'MIXED' } }),
      spawnTestServer({ name: 'nobinlog', settings: { log_bin: false } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([interleaved?.destroy(), noBinlog?.destroy()]);
  });

  it('sees innodb_autoinc_lock_mode = 2, auto_increment_increment = 2, offset 2, MIXED', async () => {
    const pool = createPool({ uri: interleaved.url, connectionLimit: 1 });
    try {
      const cache = new SchemaCache(pool);
      const settings = await cache.settings();
      expect(settings).toMatchObject({
        innodbAutoincLockMode: 2,
        autoIncrementIncrement: 2,
        autoIncrementOffset: 2,
        binlogFormat: 'MIXED',
        serverId: interleaved.serverId,
        lowerCaseTableNames: 0,
      });
      expect(settings.flavor).toBe(interleaved.binary.flavor);
      expect(await cache.settings()).toBe(settings);
    } finally {
      await pool.end();
    }
  });

  it('reports binlogFormat null when the binary log is off', async () => {
    const pool = createPool({ uri: noBinlog.url, connectionLimit: 1 });
    try {
      expect((await loadServerSettings(pool)).binlogFormat).toBeNull();
    } finally {
      await pool.end();
    }
  });
});
