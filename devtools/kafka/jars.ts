/** The broker classpath: the Kafka jars resolved from Maven Central into .policylens/kafka/libs-<VERSION>. */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { libsDir, majorOf, resolveOptions, type BrokerOptions } from './options.js';
import { run, tail } from '../../common/processes.js';
import { checkMaven } from './toolchain.js';

const COMPLETE_MARKER = '.complete';

/**
 * Makes sure .policylens/kafka/libs-<VERSION> holds the broker classpath,
 * resolving it with Maven on first use. Returns the libs folder.
 */
export async function ensureJars(opts: BrokerOptions = {}): Promise<string> {
  const r = resolveOptions(opts);
  const libs = libsDir(r);
  if (existsSync(join(libs, COMPLETE_MARKER))) return libs;
  await checkMaven();
  mkdirSync(r.paths.home, { recursive: true });
  // Copy into a private folder first and rename, so an interrupted or
  // concurrent download never leaves a half-filled classpath behind.
  const staging = `${libs}.tmp-${process.pid}-${Date.now()}`;
  r.log(`Resolving Apache Kafka ${r.version} jars from Maven Central into ${libs} ...`);
  const started = Date.now();
  const result = await run(
    'mvn',
    [
      '-q',
      '-B',
      // -U: do not let a transient download failure be cached in m2 for a day.
      '-U',
      '-Dstyle.color=never',
      '-f',
      r.paths.pom,
      `-Dmaven.repo.local=${r.paths.repo}`,
      `-Dkafka.version=${r.version}`,
      `-Dkafka.logging=${majorOf(r.version) >= 4 ? 'log4j2' : 'reload4j'}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ],
    r.paths.project,
  );
  if (result.code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `Could not download Apache Kafka ${r.version} with Maven (exit ${result.code}). ` +
        `Is the version published as org.apache.kafka:kafka_2.13:${r.version}?\n${tail(result.stdout + result.stderr, 40)}`,
    );
  }
  writeFileSync(join(staging, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
  if (existsSync(join(libs, COMPLETE_MARKER))) {
    rmSync(staging, { recursive: true, force: true }); // someone else finished first
  } else {
    rmSync(libs, { recursive: true, force: true });
    renameSync(staging, libs);
  }
  r.log(`Kafka ${r.version} jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return libs;
}
