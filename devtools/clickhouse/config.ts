/**
 * The XML files each server starts with, written anew on every start from
 * the resolved options: config.xml (log file, macros, remote_servers, where
 * the users are) and users.xml (who may log in, from where, with what rights).
 * Nothing here touches query or HTTP limits: the servers run at ClickHouse's
 * defaults (e.g. http_max_field_value_size stays 128 KiB).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { HOST, portsOf, type Resolved, type ShardPaths } from './options.js';

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const LOOPBACK = '<networks><ip>127.0.0.1</ip><ip>::1</ip></networks>';

/**
 * clickhouse-local logs its own session in as `default` with an empty password, from 127.0.0.1
 * (measured: a password or a network list without loopback on `default` makes it fail with
 * AUTHENTICATION_FAILED before listening). So `default` always exists without a password.
 *
 * With a named user, `default` is cut down to what the engine itself needs: SYSTEM LISTEN and reading
 * stdin (file(stdin) needs READ ON FILE and CREATE TEMPORARY TABLE) for the launcher's queries, and
 * SELECT because a dictionary with SOURCE(CLICKHOUSE(TABLE 'x')) and no USER loads as `default`
 * (warehouse/migrations/04_query_rollups.sql has one). It can read, but cannot write, create or drop.
 */
function usersXml(r: Resolved): string {
  const defaultGrants = r.named
    ? `
      <grants>
        <query>GRANT SYSTEM LISTEN ON *.*</query>
        <query>GRANT READ ON FILE</query>
        <query>GRANT CREATE TEMPORARY TABLE ON *.*</query>
        <query>GRANT SELECT ON *.*</query>
      </grants>`
    : '';
  const named = r.named
    ? `
    <${r.user}>
      <password_sha256_hex>${createHash('sha256').update(r.password).digest('hex')}</password_sha256_hex>
      ${LOOPBACK}
      <profile>default</profile>
      <quota>default</quota>
    </${r.user}>`
    : '';
  return `<clickhouse>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
  <users>
    <default>
      <password></password>
      ${LOOPBACK}
      <profile>default</profile>
      <quota>default</quota>${defaultGrants}
    </default>${named}
  </users>
</clickhouse>
`;
}

function remoteServers(r: Resolved): string {
  if (r.cluster === null) return '';
  // Distributed tables and remote() reach the shards over TCP as this user.
  const login = `<user>${xmlEscape(r.user)}</user><password>${xmlEscape(r.password)}</password>`;
  const shards = Array.from({ length: r.shards }, (_, i) => {
    const { tcpPort } = portsOf(r.httpPort, r.tcpPort, i + 1);
    return `      <shard><replica><host>${HOST}</host><port>${tcpPort}</port>${login}</replica></shard>`;
  });
  return `
  <remote_servers>
    <${r.cluster}>
${shards.join('\n')}
    </${r.cluster}>
  </remote_servers>`;
}

function configXml(r: Resolved, s: ShardPaths): string {
  // The engine appends its log to the same file the launcher's stdout/stderr go to, so one file tells all.
  return `<clickhouse>
  <users_config>${xmlEscape(s.usersFile)}</users_config>
  <logger>
    <log>${xmlEscape(s.logFile)}</log>
    <console>0</console>
  </logger>
  <macros><shard>${s.shard}</shard><replica>r1</replica></macros>${remoteServers(r)}
</clickhouse>
`;
}

export function writeConfigFiles(r: Resolved, s: ShardPaths): void {
  mkdirSync(s.dataDir, { recursive: true });
  // 0600: config.xml holds the cluster password in clear (remote_servers needs it so).
  writeFileSync(s.usersFile, usersXml(r), { mode: 0o600 });
  writeFileSync(s.configFile, configXml(r, s), { mode: 0o600 });
}
